// Unpacks a MotionMillion download in the released layout (split.tar.gz, texts.tar.gz, mean_std/Mean.npy + Std.npy,
// motion_272rpr/<subset>/*.tar.gz and their Mirror_<subset> twins) into the layout the reference code reads
// (motion_data/vector_272/<name>.npy, texts/, split/version1/, mean_std/vector_272/{mean,std}.npy). A damaged or
// partial archive is reported and skipped; what it did unpack is left for the index to check file by file.
//
// Archives are untrusted input. node-tar only parses them; this file writes, so that one place decides what is
// written where and how much:
// - where: every path is made of plain names (an archive's folders and name, each part of an entry's path) under the
//   output folder, through real folders only (Folder); a symbolic link already in the output is never written through;
// - how much: what an entry declares is checked before it is written, against the run's total, the archive's own size
//   (a bomb) and the free space, and it is written as it streams, never held in memory;
// - what: files and folders only, owned by the user who runs this, with the modes their umask gives (never the
//   archive's owners or setuid bits); a link, device or pipe in an archive refuses it.
import {
  closeSync,
  constants,
  copyFileSync,
  existsSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmdirSync,
  rmSync,
  statfsSync,
  statSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

import * as tar from 'tar';
import { z } from 'zod';

import { invalid, printable, TorchmotionError } from '../errors.js';
import { fileError, makeDirs } from '../files.js';
import { MIRROR_FOLDER_PREFIX } from './layout.js';

export interface PrepareReport {
  extracted: Array<{ archive: string; into: string; entries: number }>;
  failed: Array<{ archive: string; reason: string }>;
  // Files that two archives hold with different bytes: the copy unpacked first is kept (see moveIntoPlace).
  conflicts: Array<{ file: string; kept: string; skipped: string }>;
  copied: string[];
}

export interface PrepareOptions {
  onArchive?: (archive: string) => void;
  maxExtractBytes?: number; // bytes one run may unpack, in all
  maxRatio?: number; // times its own size an archive may unpack to
  keepFreeBytes?: number; // bytes left free on the output's file system
}

// Limits that a real download never meets and a bomb does. MotionMillion is about 2,000 hours of 30 fps clips of 272
// numbers, a few hundred GB unpacked: 2,000 GB in one run is far above it, and a bomb that would fit under it is still
// stopped by the free space. Motion .npy files compress about 1–4:1, texts and split lists (tar headers and padding
// included) up to about 20:1, and deflate reaches 1,032:1 on zeros: 100:1 is five times above the most compressible
// real archive and ten times below a bomb. The ratio counts beyond RATIO_SLACK, so that a small archive of constant
// values (a test's clips of zeros) is no bomb. 1 GB stays free for everything else on the disk. In GB, as `data
// prepare`'s flags take them; PrepareOptions takes bytes. Checked (a positive number, keepFree ≥ 0) in Preparation.
export const prepareLimits = z
  .object({
    maxExtractGB: z.number().default(2000),
    maxRatio: z.number().default(100),
    keepFreeGB: z.number().default(1),
  })
  .strict();
const RATIO_SLACK = 16e6;
// zlib inflates each read in one piece before the parser sees any of it: reads of 64 kB keep that piece under 66 MB
// even at 1,032:1 (node-tar's own 16 MB reads made a 4 GB buffer of a 4 MB archive of zeros).
const READ_SIZE = 64 * 1024;
// Free space is asked of the file system again after this many bytes, as other programs write to the disk too.
const ASK_FREE_EVERY = 1e9;
// After the end-of-archive blocks the file is read on, so that zlib checks the gzip trailer (CRC and length), but
// only this far: a tar's padding is a few kB, and what follows it is neither unpacked nor worth inflating.
const TAIL = 1 << 20;

const ARCHIVE = /\.(tar\.gz|tgz|tar)$/;
const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);
const FOLDER_TYPES = new Set(['Directory', 'GNUDumpDir']);
const TYPE_NAMES: Record<string, string> = {
  SymbolicLink: 'symbolic link',
  Link: 'hard link',
  CharacterDevice: 'device',
  BlockDevice: 'device',
  FIFO: 'named pipe',
};
// Folder names that mean "the motion root" when an archive or its entries start with them.
const MOTION_PREFIXES = [['motion_data', 'vector_272'], ['motion_272rpr'], ['vector_272']];

// A name that can be one part of a path and means only itself: not empty, '.' or '..', without a separator or a
// control character.
function isPlainName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !/[/\\\u0000-\u001f\u007f]/.test(name);
}

const size = (bytes: number) =>
  bytes >= 1e9
    ? `${(bytes / 1e9).toFixed(1)} GB`
    : bytes >= 1e6
      ? `${(bytes / 1e6).toFixed(1)} MB`
      : `${Math.ceil(bytes / 1e3)} kB`;

// What an entry takes in the tar stream: its 512-byte header and its data in whole blocks.
const blocks = (bytes: number) => 512 + Math.ceil(bytes / 512) * 512;

function kindOf(stat: Stats): string {
  return stat.isFIFO() ? 'a named pipe' : stat.isSocket() ? 'a socket' : stat.isDirectory() ? 'a folder' : 'a device';
}

// The archives under `dir` in name order, so that which of two archives is unpacked first never depends on the file
// system; the output folder is left out when it lies inside.
function* archives(dir: string, skip: string): Generator<string> {
  for (const e of sortedEntries(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (resolve(p) !== skip) yield* archives(p, skip);
    } else if (ARCHIVE.test(e.name)) {
      yield p;
    }
  }
}

function* files(dir: string): Generator<string> {
  for (const e of sortedEntries(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (e.isFile()) yield p;
  }
}

function sortedEntries(dir: string) {
  return readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

// A prefix is stripped only when something follows it: an entry that is just `vector_272` stays a name.
function stripPrefix(parts: string[]): string[] {
  for (const prefix of MOTION_PREFIXES) {
    if (parts.length > prefix.length && prefix.every((p, i) => parts[i] === p)) return parts.slice(prefix.length);
  }
  return parts;
}

// Extracted archives can repeat a folder (MotionLLAMA/fit3d/fit3d/train/…, or MotionGV/MotionGV/folder1 when an
// archive kept in motion_272rpr/MotionGV/ starts with its subset again): a folder equal to its parent goes.
export function collapseRepeats(parts: string[]): string[] {
  return parts.filter((p, i) => i === 0 || p !== parts[i - 1] || i === parts.length - 1);
}

// Where an archive's entries belong, relative to the output root: motion archives under motion_data/vector_272,
// below the folders the archive sits in under motion_272rpr (its subset, Mirror_ twins included); a motion archive
// of bare files (no folder inside) gets a folder named after itself. Other archives keep their own top folder
// (split/, texts/, mean_std/) or get one named after the archive.
function placeEntry(archiveRel: string[], stem: string, entry: string[], flatArchive: boolean): string[] {
  const motionAt = archiveRel.findIndex((p, i) =>
    MOTION_PREFIXES.some((pre) => pre.every((q, k) => archiveRel[i + k] === q))
  );
  const stripped = stripPrefix(entry);
  const isMotion = motionAt >= 0 || stripped.length !== entry.length;
  if (isMotion) {
    const below = motionAt >= 0 ? stripPrefix(archiveRel.slice(motionAt)).slice(0, -1) : [];
    const parts = collapseRepeats([...below, ...(flatArchive ? [stem] : []), ...stripped]);
    // A Mirror_ archive (Mirror_PhantomDanceDatav1.1.tar.gz, or one under Mirror_MotionGV/) holds mirrors: if its
    // entries name the unmirrored subset, they must still not land on (and replace) the originals.
    if (archiveRel.some((p) => p.startsWith(MIRROR_FOLDER_PREFIX)) && !parts[0].startsWith(MIRROR_FOLDER_PREFIX)) {
      parts[0] = MIRROR_FOLDER_PREFIX + parts[0];
    }
    return ['motion_data', 'vector_272', ...parts];
  }
  if (entry[0] === stem || ['split', 'texts', 'mean_std'].includes(entry[0])) return collapseRepeats(entry);
  return collapseRepeats([stem, ...entry]);
}

// An entry's path as plain names ('./' and empty parts dropped). An absolute path, '..' or a name with a control
// character or a backslash refuses the archive: none is in the release, and each could place a file elsewhere.
function entryParts(path: string): string[] {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  const odd = path.startsWith('/')
    ? 'is an absolute path, and nothing in an archive may be placed outside its folder'
    : parts.includes('..')
      ? "goes up a folder ('..'), and nothing in an archive may be placed outside its folder"
      : parts.some((p) => !isPlainName(p))
        ? 'has a control character or a backslash in a name, which no name in the ' + 'release has'
        : undefined;
  if (odd) {
    throw new TorchmotionError(
      `entry '${printable(path)}' ${odd}: the archive is refused; re-download it from the ` + 'release'
    );
  }
  return parts;
}

function refuseKind(entry: tar.ReadEntry): never {
  const link = entry.linkpath ? ` to '${printable(entry.linkpath)}'` : '';
  throw new TorchmotionError(
    `entry '${printable(entry.path)}' is a ${TYPE_NAMES[entry.type] ?? entry.type}${link}: ` +
      'data prepare unpacks only files and folders, and the release has nothing else; re-download the archive'
  );
}

// node-tar's word for a damaged archive, with the entry it was reading when it knows it.
function damaged(err: Error & { entry?: { path?: string }; header?: { path?: string } }): string {
  const at = err.entry?.path ?? err.header?.path;
  return (
    `damaged (${printable(err.message)}${at ? ` at entry '${printable(at)}'` : ''}): re-download it; the index ` +
    'will skip its clips'
  );
}

// Files are stamped by the file system's clock when written here (never with an archive's times), and the start of
// each archive is read from that same clock: a file stamped between the run's first start and now was unpacked by
// this run, by the last archive started before its stamp. So no list of the files written is kept (the release has
// millions of them).
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

// A reading of that clock: the stamp of a folder made for it in `dir`.
function clock(dir: string): bigint {
  const probe = mkdtempSync(join(dir, '.clock-'));
  const stamp = statSync(probe, { bigint: true }).mtimeNs;
  rmdirSync(probe);
  return stamp;
}

// A reading strictly after everything written so far, so that an archive's files are stamped before the next starts.
// A coarse clock (2 s on FAT) takes a while; one that does not move at all is taken as it is after 5 s.
function clockAfterNow(dir: string): bigint {
  const now = clock(dir);
  for (let waited = 0; waited < 5000; waited++) {
    const next = clock(dir);
    if (next > now) return next;
    Atomics.wait(PAUSE, 0, 0, 1);
  }
  return now;
}

function sameBytes(a: string, b: string): boolean {
  if (statSync(a).size !== statSync(b).size) return false;
  const [fa, fb] = [openSync(a, 'r'), openSync(b, 'r')];
  try {
    const [x, y] = [Buffer.alloc(READ_SIZE), Buffer.alloc(READ_SIZE)];
    for (;;) {
      const n = readSync(fa, x);
      if (n !== readSync(fb, y) || !x.subarray(0, n).equals(y.subarray(0, n))) return false;
      if (n === 0) return true;
    }
  } finally {
    closeSync(fa);
    closeSync(fb);
  }
}

// The one check on where `data prepare` writes: `root` joined with plain names, every folder on the way a real
// folder, made here or already there but never a symbolic link, so that a link in the output (`texts -> ~/.ssh`) is
// never written through. A link given as the root itself (`--out`) is the user's choice and is followed.
class Folder {
  private readonly made = new Set<string>();

  // `staging`: the root is an archive's staging folder, and messages name paths as entries of the archive.
  constructor(
    readonly root: string,
    private readonly staging = false
  ) {}

  private shown(path: string): string {
    return this.staging ? `'${printable(relative(this.root, path))}' in the archive` : printable(path);
  }

  // The path of `parts` under root, with the folders on the way (all of `parts` for a folder) made.
  path(parts: string[], kind: 'file' | 'folder'): string {
    const path = resolve(this.root, ...parts);
    const inside = relative(this.root, path);
    const outside = inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside);
    if (!parts.every(isPlainName) || outside || (kind === 'file' && inside === '')) {
      throw new TorchmotionError(
        `${this.shown(path)} is not a file name inside its folder: nothing is written ` +
          'there, and the archive is refused'
      );
    }
    let dir = this.root;
    for (const part of kind === 'file' ? parts.slice(0, -1) : parts) {
      dir = join(dir, part);
      if (!this.made.has(dir)) this.folder(dir);
    }
    return path;
  }

  private folder(dir: string): void {
    let stat: Stats | undefined;
    try {
      stat = lstatSync(dir);
    } catch {
      try {
        mkdirSync(dir);
      } catch (err) {
        throw fileError(err, 'making the folder', dir);
      }
    }
    if (stat?.isSymbolicLink()) {
      throw new TorchmotionError(
        `${this.shown(dir)} is a symbolic link: data prepare writes only into real folders ` +
          `under ${printable(this.root)}, so that no archive can reach outside it; replace the link by the folder it ` +
          'points to, or give that folder as --out'
      );
    }
    if (stat && !stat.isDirectory()) {
      throw new TorchmotionError(
        `${this.shown(dir)} is ${stat.isFile() ? 'a file' : kindOf(stat)} where a folder ` +
          `is needed: ${this.staging ? 're-download the archive' : 'move it away and run data prepare again'}`
      );
    }
    this.made.add(dir);
  }
}

class Preparation {
  readonly report: PrepareReport = { extracted: [], failed: [], conflicts: [], copied: [] };
  private readonly output: Folder;
  private readonly limits: { maxExtractBytes: number; maxRatio: number; keepFreeBytes: number };
  private readonly started: Array<{ archive: string; at: bigint }> = [];
  private unpacked = 0; // bytes the entries of this run's archives declared
  private freeAtAsk = 0; // free bytes at the last ask, and bytes promised since
  private sinceAsk = Infinity;

  constructor(
    private readonly downloadDir: string,
    private readonly out: string,
    options: PrepareOptions
  ) {
    this.output = new Folder(resolve(out));
    const defaults = prepareLimits.parse({});
    this.limits = {
      maxExtractBytes: options.maxExtractBytes ?? defaults.maxExtractGB * 1e9,
      maxRatio: options.maxRatio ?? defaults.maxRatio,
      keepFreeBytes: options.keepFreeBytes ?? defaults.keepFreeGB * 1e9,
    };
    for (const [name, value] of Object.entries(this.limits)) {
      if (!(value >= 0) || (name !== 'keepFreeBytes' && value === 0)) throw invalid(name, 'a positive number', value);
    }
  }

  archive(file: string): void {
    const fail = (reason: string) => void this.report.failed.push({ archive: file, reason });
    // Pointed at motion_272rpr itself, the archives are still motion archives.
    const base = MOTION_PREFIXES.some((p) => p.at(-1) === basename(this.downloadDir))
      ? dirname(this.downloadDir)
      : this.downloadDir;
    const archiveRel = relative(base, file).split(sep);
    const stem = basename(file).replace(ARCHIVE, '');
    if (!isPlainName(stem)) {
      return fail(
        `its name without the extension ('${printable(stem)}') is not a plain file name, so its entries ` +
          `could be placed outside ${printable(this.out)}: rename it as it is named in the release (e.g. texts.tar.gz)`
      );
    }
    const folder = archiveRel.slice(0, -1).find((p) => !isPlainName(p));
    if (folder !== undefined) {
      return fail(
        `the folder '${printable(folder)}' it is in has a control character or a backslash in its name, ` +
          'which is never a path part here: rename the folder'
      );
    }
    let input: number;
    try {
      // Non-blocking, so that a named pipe put in its place is refused below rather than waited on forever.
      input = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (err) {
      return fail(fileError(err, 'opening', file).message);
    }
    const staging = join(this.out, `.unpacking-${basename(file)}`);
    try {
      const stat = fstatSync(input);
      if (!stat.isFile()) return fail(`is ${kindOf(stat)}, not a file: replace it with the downloaded archive`);
      this.sinceAsk = Infinity;
      this.fits(stat.size, 'unpacking it');
      rmSync(staging, { recursive: true, force: true });
      mkdirSync(staging);
      this.started.push({ archive: file, at: clockAfterNow(staging) });
      const r = this.unpack(input, stat.size, staging);
      if (r.refused) return fail(r.refused.message);
      const into = this.place(file, staging, archiveRel, stem, r.flat, clock(staging));
      if (r.damage) fail(damaged(r.damage));
      else this.report.extracted.push({ archive: file, into, entries: r.entries });
    } catch (err) {
      fail(err instanceof TorchmotionError ? err.message : fileError(err, 'unpacking into', staging).message);
    } finally {
      closeSync(input);
      rmSync(staging, { recursive: true, force: true });
    }
  }

  // Unpacks an archive into `staging` as it streams. A refusal (a name, a kind, a cap) leaves nothing of the archive
  // in place; damage keeps what was unpacked before it.
  private unpack(
    input: number,
    compressed: number,
    staging: string
  ): {
    entries: number;
    flat: boolean;
    refused?: Error;
    damage?: Error;
  } {
    const folder = new Folder(staging, true);
    let entries = 0;
    let flat = true;
    let declared = 0;
    let eof = false; // the end-of-archive blocks were read
    let output: number | undefined;
    let refused: Error | undefined;
    let damage: Error | undefined;
    // node-tar's own running ratio counts the tar's zero padding too and so refuses a small archive of zeros: the
    // declared sizes (checked in `account`) bound what it inflates instead.
    const parser = new tar.Parser({ strict: true, zstd: false, brotli: false, maxDecompressionRatio: Infinity });
    const close = () => {
      if (output !== undefined) closeSync(output);
      output = undefined;
    };
    const refuse = (err: unknown) => {
      close();
      refused ??= err as Error;
      parser.abort(refused);
    };
    // Everything the parser inflates is declared by a header first: files, folders, skipped entries, pax metadata.
    const account = (bytes: number) => {
      if (!(declared + bytes <= this.limits.maxRatio * compressed + RATIO_SLACK)) {
        throw new TorchmotionError(
          `its entries declare ${size(declared + bytes)} or more from ${size(compressed)}, ` +
            `over the cap of ${this.limits.maxRatio} times its size: a compression bomb or a damaged archive. ` +
            'Re-download it, or if you trust it raise the cap with --max-ratio'
        );
      }
      if (!(this.unpacked + bytes <= this.limits.maxExtractBytes)) {
        throw new TorchmotionError(
          `unpacking it takes this run past its cap of ${size(this.limits.maxExtractBytes)} ` +
            `(${size(this.unpacked + bytes)} declared so far): raise the cap with ` +
            `--max-extract-gb if the download is ` +
            'that large'
        );
      }
      declared += bytes;
      this.unpacked += bytes;
    };
    const onEntry = (entry: tar.ReadEntry) => {
      entries++;
      if (!Number.isSafeInteger(entry.size) || entry.size < 0) {
        throw new TorchmotionError(
          `entry '${printable(entry.path)}' declares a size of ${entry.size}: the archive ` +
            'is damaged; re-download it'
        );
      }
      const parts = entryParts(entry.path);
      account(blocks(entry.size));
      if (FOLDER_TYPES.has(entry.type)) {
        flat = false;
        folder.path(parts, 'folder');
        entry.resume();
        return;
      }
      if (!FILE_TYPES.has(entry.type)) refuseKind(entry);
      if (parts.length > 1) flat = false;
      this.fits(entry.size, `entry '${printable(entry.path)}'`);
      const path = folder.path(parts, 'file');
      let fd: number;
      try {
        // Created by this user with the umask's mode: the archive's owner and mode bits (setuid) are never applied.
        fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW);
      } catch (err) {
        throw fileError(err, 'writing', path);
      }
      output = fd;
      entry.on('data', (chunk: Buffer) => {
        try {
          for (let at = 0; at < chunk.length;) at += writeSync(fd, chunk, at);
        } catch (err) {
          refuse(fileError(err, 'writing', path));
        }
      });
      entry.on('end', close);
    };
    const guarded =
      <T extends unknown[]>(handler: (...args: T) => void) =>
      (...args: T) => {
        try {
          if (!refused) handler(...args);
        } catch (err) {
          refuse(err);
        }
      };
    parser.on('entry', guarded(onEntry));
    // Skipped: metadata too large to read (still inflated, so counted) and entries of a kind node-tar cannot read.
    parser.on(
      'ignoredEntry',
      guarded((entry: tar.ReadEntry) => {
        if (!entry.meta) refuseKind(entry);
        account(blocks(entry.size));
      })
    );
    parser.on(
      'meta',
      guarded((meta: string) => account(blocks(Buffer.byteLength(meta))))
    );
    parser.on('eof', () => void (eof = true));
    parser.on('error', (err: Error) => void (damage ??= err));
    try {
      for (let tail = 0; ;) {
        const chunk = Buffer.allocUnsafe(READ_SIZE);
        const n = readSync(input, chunk);
        if (n === 0) break;
        if (eof && (tail += n) > TAIL) {
          damage = new Error(`more than ${size(TAIL)} follow the end of its tar data`);
          break;
        }
        parser.write(chunk.subarray(0, n));
        if (damage) break;
      }
      if (!damage) parser.end();
    } finally {
      close();
    }
    return { entries, flat, refused, damage: refused ? undefined : damage };
  }

  // Moves what `staging` holds to where the reference reads it; returns the folders it went into.
  private place(file: string, staging: string, archiveRel: string[], stem: string, flat: boolean, now: bigint): string {
    const tops = new Set<string>();
    for (const f of files(staging)) {
      const target = placeEntry(archiveRel, stem, relative(staging, f).split(sep), flat);
      tops.add(target.slice(0, target[0] === 'motion_data' ? 3 : 1).join('/'));
      this.moveIntoPlace(f, this.output.path(target, 'file'), file, now);
    }
    return [...tops].map((t) => join(this.out, t)).join(', ') || this.out;
  }

  // The first archive's copy of a file is kept: a later archive that holds it with other bytes is reported in
  // `conflicts` and never written over it (with the same bytes it is no conflict). A file there from before this run
  // is replaced, so that a rerun after re-downloading a damaged archive repairs what it left, and a rerun over a run's
  // own output writes the same files and reports the same conflicts.
  private moveIntoPlace(from: string, to: string, archive: string, now: bigint): void {
    let there;
    try {
      there = lstatSync(to, { bigint: true });
    } catch {
      there = undefined;
    }
    const stamp = there?.isFile() ? there.mtimeNs : -1n;
    if (stamp >= this.started[0].at && stamp <= now) {
      if (!sameBytes(from, to)) this.report.conflicts.push({ file: to, kept: this.writerOf(stamp), skipped: archive });
      return;
    }
    try {
      renameSync(from, to);
    } catch (err) {
      throw fileError(err, 'moving into place', to);
    }
  }

  private writerOf(stamp: bigint): string {
    let writer = this.started[0].archive;
    for (const s of this.started) if (s.at <= stamp) writer = s.archive;
    return writer;
  }

  // Refuses `bytes` more when they would leave less than keepFreeBytes free. The file system is asked again after
  // ASK_FREE_EVERY bytes, and before refusing, so a refusal always rests on a fresh answer.
  private fits(bytes: number, what: string): void {
    const left = () => this.freeAtAsk - this.sinceAsk - this.limits.keepFreeBytes;
    if (this.sinceAsk > ASK_FREE_EVERY || !(bytes <= left())) {
      const fs = statfsSync(this.out);
      this.freeAtAsk = fs.bavail * fs.bsize;
      this.sinceAsk = 0;
    }
    if (!(bytes <= left())) {
      throw new TorchmotionError(
        `${what} needs ${size(bytes)}, but ${printable(this.out)} has ` +
          `${size(this.freeAtAsk)} free and data prepare keeps ${size(this.limits.keepFreeBytes)} of ` +
          `it free: free up ` +
          'space or choose another --out'
      );
    }
    this.sinceAsk += bytes;
  }

  // The release ships mean_std/Mean.npy and Std.npy; the reference reads mean_std/vector_272/mean.npy and std.npy.
  copyMeanStd(): void {
    for (const dir of [join(this.downloadDir, 'mean_std', 'vector_272'), join(this.downloadDir, 'mean_std')]) {
      for (const [m, s] of [
        ['mean.npy', 'std.npy'],
        ['Mean.npy', 'Std.npy'],
      ]) {
        if (!existsSync(join(dir, m)) || !existsSync(join(dir, s))) continue;
        for (const f of [m, s]) {
          // Copying from a named pipe would wait for a writer forever.
          const stat = statSync(join(dir, f));
          if (!stat.isFile()) {
            this.report.failed.push({
              archive: join(dir, f),
              reason: `is ${kindOf(stat)}, not a file: copy the ` + `released ${f} there`,
            });
            return;
          }
        }
        try {
          const mean = this.output.path(['mean_std', 'vector_272', 'mean.npy'], 'file');
          const std = this.output.path(['mean_std', 'vector_272', 'std.npy'], 'file');
          // A copy opens its destination as it is, link or not: what is there goes, and the copy makes a new file.
          for (const [from, to] of [
            [m, mean],
            [s, std],
          ]) {
            rmSync(to, { force: true });
            copyFileSync(join(dir, from), to, constants.COPYFILE_EXCL);
          }
          this.report.copied.push(dirname(mean));
        } catch (err) {
          this.report.failed.push({
            archive: join(dir, m),
            reason:
              err instanceof TorchmotionError
                ? err.message
                : fileError(err, 'copying it to', join(this.out, 'mean_std', 'vector_272')).message,
          });
        }
        return;
      }
    }
  }
}

export async function prepareDataset(
  downloadDir: string,
  out: string,
  options: PrepareOptions = {}
): Promise<PrepareReport> {
  if (!existsSync(downloadDir) || !statSync(downloadDir).isDirectory()) {
    throw new TorchmotionError(
      `download folder ${downloadDir} does not exist: pass the folder holding the .tar.gz ` + 'files'
    );
  }
  makeDirs(out);
  const run = new Preparation(downloadDir, out, options);
  for (const file of [...archives(downloadDir, resolve(out))]) {
    options.onArchive?.(file);
    run.archive(file);
  }
  run.copyMeanStd();
  const { report } = run;
  if (report.extracted.length === 0 && report.copied.length === 0) {
    const first = report.failed[0];
    throw new TorchmotionError(
      `${downloadDir} holds no .tar.gz archives or mean_std folder to prepare` +
        (first ? ` (${report.failed.length} failed: ${printable(first.archive)}: ${first.reason})` : '')
    );
  }
  return report;
}

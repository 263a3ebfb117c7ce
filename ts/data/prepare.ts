// Unpacks a MotionMillion download in the released layout (split.tar.gz, texts.tar.gz, mean_std/Mean.npy + Std.npy,
// motion_272rpr/<subset>/*.tar.gz and their Mirror_<subset> twins) into the layout the reference code reads
// (motion_data/vector_272/<name>.npy, texts/, split/version1/, mean_std/vector_272/{mean,std}.npy). A damaged or
// partial archive is reported and skipped; what it did unpack is left for the index to check file by file.
import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';

import * as tar from 'tar';

import { TorchmotionError } from '../errors.js';
import { MIRROR_FOLDER_PREFIX } from './layout.js';

export interface PrepareReport {
  extracted: Array<{ archive: string; into: string; entries: number }>;
  failed: Array<{ archive: string; reason: string }>;
  copied: string[];
}

const ARCHIVE = /\.(tar\.gz|tgz|tar)$/;
// Folder names that mean "the motion root" when an archive or its entries start with them.
const MOTION_PREFIXES = [['motion_data', 'vector_272'], ['motion_272rpr'], ['vector_272']];

function* archives(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* archives(p);
    else if (ARCHIVE.test(e.name)) yield p;
  }
}

function* files(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (e.isFile()) yield p;
  }
}

function stripPrefix(parts: string[]): string[] {
  for (const prefix of MOTION_PREFIXES) {
    if (prefix.every((p, i) => parts[i] === p)) return parts.slice(prefix.length);
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
  const motionAt = archiveRel.findIndex((p, i) => MOTION_PREFIXES.some((pre) => pre.every((q, k) => archiveRel[i + k] === q)));
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

async function extract(file: string, downloadDir: string, out: string): Promise<{ entries: number; into: string; error?: Error }> {
  const staging = join(out, `.unpacking-${basename(file)}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  let entries = 0;
  let flat = true;
  let error: Error | undefined;
  try {
    await tar.x({ file, cwd: staging, strict: true, onReadEntry: (e) => {
      entries++;
      if (e.path.replace(/^\.\//, '').includes('/')) flat = false;
    } });
  } catch (err) {
    error = err as Error;
  }
  // What was unpacked, even from a damaged archive, moves into place; the index rejects a truncated file later.
  // Pointed at motion_272rpr itself, the archives are still motion archives.
  const base = MOTION_PREFIXES.some((p) => p.at(-1) === basename(downloadDir)) ? dirname(downloadDir) : downloadDir;
  const archiveRel = relative(base, file).split(/[\\/]/);
  const stem = basename(file).replace(ARCHIVE, '');
  const tops = new Set<string>();
  for (const f of files(staging)) {
    const entry = relative(staging, f).split(sep);
    const target = placeEntry(archiveRel, stem, entry, flat);
    tops.add(target.slice(0, target[0] === 'motion_data' ? 3 : 1).join('/'));
    const dst = join(out, ...target);
    mkdirSync(dirname(dst), { recursive: true });
    renameSync(f, dst);
  }
  rmSync(staging, { recursive: true, force: true });
  return { entries, into: [...tops].map((t) => join(out, t)).join(', ') || out, error };
}

// The release ships mean_std/Mean.npy and Std.npy; the reference reads mean_std/vector_272/mean.npy and std.npy.
function copyMeanStd(downloadDir: string, out: string): string | undefined {
  for (const dir of [join(downloadDir, 'mean_std', 'vector_272'), join(downloadDir, 'mean_std')]) {
    for (const [m, s] of [['mean.npy', 'std.npy'], ['Mean.npy', 'Std.npy']]) {
      if (existsSync(join(dir, m)) && existsSync(join(dir, s))) {
        const dst = join(out, 'mean_std', 'vector_272');
        mkdirSync(dst, { recursive: true });
        copyFileSync(join(dir, m), join(dst, 'mean.npy'));
        copyFileSync(join(dir, s), join(dst, 'std.npy'));
        return dst;
      }
    }
  }
  return undefined;
}

export async function prepareDataset(downloadDir: string, out: string, onArchive?: (archive: string) => void): Promise<PrepareReport> {
  if (!existsSync(downloadDir) || !statSync(downloadDir).isDirectory()) {
    throw new TorchmotionError(`download folder ${downloadDir} does not exist: pass the folder holding the .tar.gz files`);
  }
  const report: PrepareReport = { extracted: [], failed: [], copied: [] };
  mkdirSync(out, { recursive: true });
  for (const file of archives(downloadDir)) {
    onArchive?.(file);
    const r = await extract(file, downloadDir, out);
    if (r.error) report.failed.push({ archive: file, reason: r.error.message });
    else report.extracted.push({ archive: file, into: r.into, entries: r.entries });
  }
  const stats = copyMeanStd(downloadDir, out);
  if (stats) report.copied.push(stats);
  if (report.extracted.length === 0 && report.copied.length === 0) {
    throw new TorchmotionError(`${downloadDir} holds no .tar.gz archives or mean_std folder to prepare` +
      (report.failed.length ? ` (${report.failed.length} archive(s) failed: ${report.failed[0].reason})` : ''));
  }
  return report;
}

// Indexes a MotionMillion split: which listed clips exist, which are usable for a stage, and why the rest are not.
// A partial download is normal: missing clips are counted and reported, never a crash (unless strict).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { z } from 'zod';

import { TorchmotionError } from '../errors.js';
import { makeDirs, requireRegularFile } from '../files.js';
import { DIM, FPS } from '../motion/repr272.js';
import {
  isMirrored,
  mirrorSource,
  motionDir,
  motionFile,
  splitFile,
  subsetOf,
  textFile,
  type Stage,
} from './layout.js';
import { NpyFile } from './npy.js';
import { mirrorCaption, parseCaptions, type Caption } from './texts.js';

// Frame limits at 30 fps, as in the reference: tokenizer training takes 96-frame windows, tokenizer
// evaluation keeps 120..600, text-to-motion 60..300 (evaluation 60..200).
export const STAGE_LIMITS = {
  tokenizer: { minFrames: 96, maxFrames: Infinity },
  'tokenizer-eval': { minFrames: 120, maxFrames: 600 },
  t2m: { minFrames: 60, maxFrames: 300 },
  't2m-eval': { minFrames: 60, maxFrames: 200 },
} as const;
export type StageName = keyof typeof STAGE_LIMITS;
// The stage whose limits an index applies when none is named.
export const indexSettings = z
  .object({
    stage: z.enum(Object.keys(STAGE_LIMITS) as [StageName, ...StageName[]]).default('tokenizer'),
  })
  .strict();

export interface IndexOptions {
  split: string;
  stage?: StageName;
  minFrames?: number;
  maxFrames?: number;
  strict?: boolean; // a listed clip that is absent is an error instead of a skip
  scanValues?: boolean; // read every file once to reject NaN/Inf (otherwise only headers are read)
  reportDir?: string; // where the full lists of missing and rejected clips go (default <root>/reports)
}

export interface Rejected {
  name: string;
  reason: string;
}

export interface DatasetIndex {
  root: string;
  split: string;
  stage: StageName;
  motionDir: string;
  names: string[]; // usable clips
  frames: Int32Array; // their lengths
  dataOffsets: Int32Array; // byte offset of the first row in each file
  fastPath: Uint8Array; // item size (4 or 8) for C-order little-endian files the loader reads directly; 0 otherwise
  captions?: Caption[][]; // t2m stages: the captions of each usable clip
}

export interface IndexReport {
  split: string;
  stage: StageName;
  splitFile: string;
  listed: number;
  usable: number;
  usableFrames: number;
  // Per subset (mirror folders counted with their subset); mirrored = usable clips that are mirrors (either naming).
  perSubset: Record<string, { listed: number; usable: number; mirrored: number; missing: number; rejected: number }>;
  missing: { count: number; examples: string[]; listFile?: string };
  corrupt: Rejected[]; // unreadable files: truncated, not .npy, wrong shape or dtype, NaN/Inf
  // readable but outside the stage's limits or without captions
  filtered: { count: number; examples: Rejected[]; listFile?: string };
}

const FLOAT_CHUNK_ROWS = 4096;

function hasNonFinite(f: NpyFile): boolean {
  for (let r = 0; r < f.rows; r += FLOAT_CHUNK_ROWS) {
    const a = f.readRows(r, Math.min(FLOAT_CHUNK_ROWS, f.rows - r)).data as Float32Array | Float64Array;
    for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return true;
  }
  return false;
}

// Checks one motion file's header (and values when asked); returns its length or the reason it is unusable.
export interface MotionInfo {
  frames: number;
  dataOffset: number;
  fastPath: number;
}

export function inspectMotion(file: string, scanValues: boolean): MotionInfo | { reason: string } {
  let f: NpyFile;
  try {
    f = new NpyFile(file);
  } catch (err) {
    return { reason: (err as Error).message.replace(`${file}: `, '') };
  }
  try {
    const { shape, dtype } = f.header;
    if (shape.length !== 2 || shape[1] !== DIM) return { reason: `shape (${shape.join(', ')}) is not (T, ${DIM})` };
    if (dtype !== 'f4' && dtype !== 'f8') return { reason: `dtype ${dtype} is not float32 or float64` };
    if (scanValues && hasNonFinite(f)) return { reason: 'contains NaN or Inf' };
    const fast = !f.header.fortranOrder && f.header.littleEndian ? (dtype === 'f4' ? 4 : 8) : 0;
    return { frames: shape[0], dataOffset: f.header.dataOffset, fastPath: fast };
  } catch (err) {
    return { reason: (err as Error).message.replace(`${file}: `, '') };
  } finally {
    f.close();
  }
}

// Why a split entry cannot name a clip, or undefined when it can: entries are paths below the dataset's folders,
// so one that is absolute or climbs out with '..' would read files elsewhere on the machine.
export function clipNameProblem(name: string): string | undefined {
  if (name.includes('\0')) return 'the name holds a NUL character';
  if (/^([a-zA-Z]:)?[\\/]/.test(name) || /^[a-zA-Z]:/.test(name))
    return 'the name is an absolute path, outside the dataset root';
  if (name.split(/[\\/]/).some((part) => part === '..')) return "the name climbs out of the dataset root with '..'";
  return undefined;
}

export function readSplit(file: string): string[] {
  requireRegularFile(file);
  return readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

// A clip's captions; a mirror without a text file of its own (two released MotionMillion ids) takes its source's
// with the sides swapped.
export function captionsFor(root: string, name: string): Caption[] | undefined {
  const file = textFile(root, name);
  if (existsSync(file)) return parseCaptions(readFileSync(file, 'utf8'));
  const source = mirrorSource(name);
  if (source === undefined || !existsSync(textFile(root, source))) return undefined;
  return parseCaptions(readFileSync(textFile(root, source), 'utf8')).map((c) => ({
    ...c,
    text: mirrorCaption(c.text),
  }));
}

export function buildIndex(root: string, options: IndexOptions): { index: DatasetIndex; report: IndexReport } {
  const { stage } = indexSettings.parse({ stage: options.stage });
  const limits = {
    ...STAGE_LIMITS[stage],
    ...(options.minFrames !== undefined && { minFrames: options.minFrames }),
    ...(options.maxFrames !== undefined && { maxFrames: options.maxFrames }),
  };
  const baseStage: Stage = stage.startsWith('t2m') ? 't2m' : 'tokenizer';
  const listFile = splitFile(root, options.split, baseStage);
  const dir = motionDir(root);
  const listed = readSplit(listFile);
  const names: string[] = [];
  const frames: number[] = [];
  const offsets: number[] = [];
  const fast: number[] = [];
  const captions: Caption[][] = [];
  const missing: string[] = [];
  const corrupt: Rejected[] = [];
  const filtered: Rejected[] = [];
  const perSubset: IndexReport['perSubset'] = {};
  const listedNames = new Set(listed);
  for (const name of listed) {
    const sub = (perSubset[subsetOf(name)] ??= { listed: 0, usable: 0, mirrored: 0, missing: 0, rejected: 0 });
    sub.listed++;
    const unsafe = clipNameProblem(name);
    if (unsafe) {
      corrupt.push({ name, reason: `${unsafe}: not read` });
      sub.rejected++;
      continue;
    }
    const file = motionFile(root, name, dir);
    if (!existsSync(file)) {
      missing.push(name);
      sub.missing++;
      continue;
    }
    const info = inspectMotion(file, options.scanValues ?? false);
    if ('reason' in info) {
      corrupt.push({ name, reason: info.reason });
      sub.rejected++;
      continue;
    }
    if (info.frames < limits.minFrames || info.frames > limits.maxFrames) {
      filtered.push({
        name,
        reason: `${info.frames} frames, outside ${limits.minFrames}..${limits.maxFrames} for stage ${stage}`,
      });
      sub.rejected++;
      continue;
    }
    if (baseStage === 't2m') {
      const caps = captionsFor(root, name);
      if (!caps || caps.length === 0) {
        filtered.push({ name, reason: 'no captions in texts/' });
        sub.rejected++;
        continue;
      }
      captions.push(caps);
    }
    names.push(name);
    frames.push(info.frames);
    offsets.push(info.dataOffset);
    fast.push(info.fastPath);
    sub.usable++;
    if (isMirrored(name, listedNames)) sub.mirrored++;
  }
  if (options.strict && missing.length > 0) {
    throw new TorchmotionError(
      `${missing.length} of ${listed.length} clips listed in ${listFile} are missing under ${dir} ` +
        `(first: ${missing.slice(0, 3).join(', ')}); drop --strict to skip them`
    );
  }
  const reportDir = options.reportDir ?? join(root, 'reports');
  const tag = `${options.split.replace(/[^\w.-]+/g, '_')}-${stage}`;
  const writeList = (kind: string, lines: string[]): string | undefined => {
    if (lines.length === 0) return undefined;
    makeDirs(reportDir);
    const file = join(reportDir, `${tag}-${kind}.txt`);
    writeFileSync(file, lines.join('\n') + '\n');
    return file;
  };
  const report: IndexReport = {
    split: options.split,
    stage,
    splitFile: listFile,
    listed: listed.length,
    usable: names.length,
    usableFrames: frames.reduce((a, b) => a + b, 0),
    perSubset,
    missing: { count: missing.length, examples: missing.slice(0, 10), listFile: writeList('missing', missing) },
    corrupt,
    filtered: {
      count: filtered.length,
      examples: filtered.slice(0, 10),
      listFile: writeList(
        'filtered',
        filtered.map((r) => `${r.name}\t${r.reason}`)
      ),
    },
  };
  const index: DatasetIndex = {
    root,
    split: options.split,
    stage,
    motionDir: dir,
    names,
    frames: Int32Array.from(frames),
    dataOffsets: Int32Array.from(offsets),
    fastPath: Uint8Array.from(fast),
    ...(baseStage === 't2m' && { captions }),
  };
  return { index, report };
}

export function formatReport(r: IndexReport): string {
  const lines = [
    `split ${r.split} (${r.splitFile}), stage ${r.stage}: ${r.usable} of ${r.listed} clips usable, ` +
      `${(r.usableFrames / FPS / 3600).toFixed(2)} h`,
  ];
  for (const [s, c] of Object.entries(r.perSubset)) {
    lines.push(
      `  ${s.padEnd(28)} listed ${c.listed}, usable ${c.usable} (mirrored ${c.mirrored}), ` +
        `missing ${c.missing}, rejected ${c.rejected}`
    );
  }
  if (r.missing.count) {
    lines.push(
      `missing on disk: ${r.missing.count} (e.g. ${r.missing.examples.slice(0, 3).join(', ')}); ` +
        `full list: ${r.missing.listFile}`
    );
  }
  for (const c of r.corrupt) lines.push(`corrupt: ${c.name}: ${c.reason}`);
  if (r.filtered.count)
    lines.push(
      `filtered: ${r.filtered.count} (e.g. ${r.filtered.examples[0].name}: ${r.filtered.examples[0].reason}); ` +
        `full list: ${r.filtered.listFile}`
    );
  return lines.join('\n');
}

// An exported PFNN database (`torchmotion export pfnn`) as training reads it: the rows normalised as the original
// does (Xun → (X − Xmean) / Xstd, Yun likewise, the phase apart), and a held-out split by clip — a clip and its
// mirrored twin on the same side — because neighbouring rows of one clip are near copies of each other.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { readNpz } from '../data/npz.js';
import { TorchmotionError } from '../errors.js';
import type { PfnnClip } from '../export/pfnn-export.js';
import { fileError } from '../files.js';

export interface PfnnDatabase {
  dir: string;
  rows: number;
  input: number;
  output: number;
  x: Float32Array;       // (rows, input) normalised
  y: Float32Array;       // (rows, output) normalised
  phase: Float32Array;   // (rows)
  clipOf: Int32Array;    // (rows) index into clips
  clips: PfnnClip[];
  stats: PfnnStats;
}

export interface PfnnStats { Xmean: Float32Array; Xstd: Float32Array; Ymean: Float32Array; Ystd: Float32Array }

function readBin(dir: string, name: string, length: number): Float32Array {
  const file = join(dir, name);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw fileError(err, 'reading', file);
  }
  if (bytes.length !== length * 4) {
    throw new TorchmotionError(`${file}: ${bytes.length} bytes, but the database has ${length} columns (${length * 4} bytes of float32): export it again`);
  }
  const out = new Float32Array(length);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

export function readPfnnStats(dir: string, input: number, output: number): PfnnStats {
  const stats = { Xmean: readBin(dir, 'Xmean.bin', input), Xstd: readBin(dir, 'Xstd.bin', input),
    Ymean: readBin(dir, 'Ymean.bin', output), Ystd: readBin(dir, 'Ystd.bin', output) };
  for (const [k, v] of Object.entries(stats)) {
    if (!v.every(Number.isFinite) || (k.endsWith('std') && !v.every((s) => s > 0))) {
      throw new TorchmotionError(`${join(dir, `${k}.bin`)} holds NaN, Inf${k.endsWith('std') ? ' or a non-positive std' : ''}: export the database again`);
    }
  }
  return stats;
}

export function readPfnnDatabase(dir: string): PfnnDatabase {
  const file = join(dir, 'database.npz');
  if (!existsSync(file)) throw new TorchmotionError(`${dir} has no database.npz: make one with \`torchmotion export pfnn <dataset> --split train -o ${dir}\``);
  const clipsFile = join(dir, 'clips.json');
  const npz = readNpz(file);
  if (!npz.Cun || !existsSync(clipsFile)) {
    throw new TorchmotionError(`${dir} was exported without clip numbers (Cun, clips.json), which the held-out split needs: export it again with this version`);
  }
  const { Xun, Yun, Pun, Cun } = npz;
  if (!Xun || !Yun || !Pun || Xun.shape.length !== 2 || Yun.shape.length !== 2 || Xun.shape[0] !== Yun.shape[0] || Pun.shape[0] !== Xun.shape[0] ||
      Cun.shape[0] !== Xun.shape[0] || Xun.dtype !== 'f4' || Yun.dtype !== 'f4' || Pun.dtype !== 'f4' || Cun.dtype !== 'i4') {
    throw new TorchmotionError(`${file}: expected Xun (rows, X) and Yun (rows, Y) float32, Pun (rows) float32 and Cun (rows) int32`);
  }
  const [rows, input] = Xun.shape;
  const output = Yun.shape[1];
  const clips = JSON.parse(readFileSync(clipsFile, 'utf8')) as PfnnClip[];
  const clipOf = Cun.data as Int32Array;
  if (clipOf.some((c) => c < 0 || c >= clips.length)) throw new TorchmotionError(`${file}: Cun names clips beyond the ${clips.length} of ${clipsFile}`);
  const stats = readPfnnStats(dir, input, output);
  const x = Xun.data as Float32Array;
  const y = Yun.data as Float32Array;
  const phase = Pun.data as Float32Array;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < input; c++) x[r * input + c] = (x[r * input + c] - stats.Xmean[c]) / stats.Xstd[c];
    for (let c = 0; c < output; c++) y[r * output + c] = (y[r * output + c] - stats.Ymean[c]) / stats.Ystd[c];
  }
  const bad = [x, y, phase].findIndex((a) => !a.every(Number.isFinite));
  if (bad >= 0) throw new TorchmotionError(`${file}: ${['Xun', 'Yun', 'Pun'][bad]} holds NaN or Inf: export the database again`);
  if (!phase.every((p) => p >= 0 && p < 1)) throw new TorchmotionError(`${file}: Pun must lie in [0, 1)`);
  return { dir, rows, input, output, x, y, phase, clipOf, clips, stats };
}

// Rows of held-out clips and of the rest: every clip group (a clip and its mirror) goes to one side, chosen by a
// fixed hash of the source clip's name, so the split does not change when clips are added or reordered.
export function splitByClip(db: PfnnDatabase, heldOut: number): { train: Int32Array; heldOut: Int32Array; heldOutClips: string[] } {
  const hash = (s: string) => {
    let h = 2166136261;
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
    return (h >>> 0) / 2 ** 32;
  };
  const out = db.clips.map((c) => hash(c.source) < heldOut);
  const train: number[] = [];
  const held: number[] = [];
  for (let r = 0; r < db.rows; r++) (out[db.clipOf[r]] ? held : train).push(r);
  if (train.length === 0) throw new TorchmotionError(`${db.dir}: no training rows are left after holding out ${heldOut} of the clips: lower train.heldOut`);
  return { train: Int32Array.from(train), heldOut: Int32Array.from(held), heldOutClips: db.clips.filter((_, c) => out[c]).map((c) => c.name) };
}

// An exported PFNN database (`torchmotion pfnn database`) as training reads it: the rows normalised as the original
// does (Xun → (X − Xmean) / Xstd, Yun likewise, the phase apart), and a held-out split by clip — a clip and its
// mirrored twin on the same side — because neighbouring rows of one clip are near copies of each other.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { z } from 'zod';

import { readNpz } from '../data/npz.js';
import { describe, TorchmotionError } from '../errors.js';
import { MIN_STD, X_DIM, Y_DIM } from './database-layout.js';
import type { PfnnClip } from './database-build.js';
import { fileError, requireRegularFile } from '../files.js';
import { parseJson, readJson } from './json.js';

export interface PfnnDatabase {
  dir: string;
  rows: number;
  input: number;
  output: number;
  x: Float32Array; // (rows, input) normalised
  y: Float32Array; // (rows, output) normalised
  phase: Float32Array; // (rows)
  clipOf: Int32Array; // (rows) index into clips
  clips: PfnnClip[];
  stats: PfnnStats;
}

export interface PfnnStats {
  Xmean: Float32Array;
  Xstd: Float32Array;
  Ymean: Float32Array;
  Ystd: Float32Array;
}

// A raw little-endian float32 file of `length` values, every one finite. Its size is compared before it is read, so a
// file that is not what the description says is refused before anything is allocated for it.
export function readFloats(file: string, length: number): Float32Array {
  let bytes: Buffer;
  const sizeProblem = (size: number) =>
    new TorchmotionError(`${file}: ${size} bytes, expected ${4 * length} (${length} float32): export it again`);
  requireRegularFile(file);
  try {
    const size = statSync(file).size;
    if (size !== 4 * length) throw sizeProblem(size);
    bytes = readFileSync(file);
  } catch (err) {
    throw fileError(err, 'reading', file);
  }
  if (bytes.length !== 4 * length) throw sizeProblem(bytes.length); // it changed since the size was looked at
  const out = new Float32Array(length);
  new Uint8Array(out.buffer).set(bytes);
  const bad = out.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new TorchmotionError(`${file}: value ${bad} is ${out[bad]}: export it again`);
  return out;
}

// The exporter never writes a std below MIN_STD (a constant group gets 1) and no real motion has a mean or std past a
// thousand kilometres: past these bounds the normalised rows or the denormalised outputs would be absurd numbers.
const MAX_NORMALISATION = 1e6;

// `file` names each normalisation file (the runtime export checks that each stays inside its folder).
export function readPfnnStats(
  dir: string,
  input: number,
  output: number,
  file = (name: string) => join(dir, name)
): PfnnStats {
  const stats = {
    Xmean: readFloats(file('Xmean.bin'), input),
    Xstd: readFloats(file('Xstd.bin'), input),
    Ymean: readFloats(file('Ymean.bin'), output),
    Ystd: readFloats(file('Ystd.bin'), output),
  };
  for (const [k, v] of Object.entries(stats)) {
    const std = k.endsWith('std');
    const [lo, hi] = std ? [Math.fround(MIN_STD), MAX_NORMALISATION] : [-MAX_NORMALISATION, MAX_NORMALISATION];
    const c = v.findIndex((s) => !(s >= lo && s <= hi));
    if (c >= 0) {
      const range = `[${std ? MIN_STD : -MAX_NORMALISATION}, ${MAX_NORMALISATION}]`;
      throw new TorchmotionError(
        `${file(`${k}.bin`)}: channel ${c} is ${v[c]}, but a ${std ? 'std' : 'mean'} must ` +
          `lie in ${range}: export the database again`
      );
    }
  }
  return stats;
}

const clipList = z.array(z.object({ name: z.string().min(1), source: z.string(), rows: z.number().int().min(1) }));

// clips.json against Cun: rows come in clip order and each clip has the rows it lists (held-out quality reads a clip as
// the run of rows from its first one), and no two clips share a name (the split and quality go by names).
function checkClips(file: string, clipsFile: string, clips: PfnnClip[], clipOf: Int32Array): void {
  const beyond = clipOf.findIndex((c) => c < 0 || c >= clips.length);
  if (beyond >= 0) {
    throw new TorchmotionError(
      `${file}: Cun names clip ${clipOf[beyond]} at row ${beyond}, beyond the ` + `${clips.length} of ${clipsFile}`
    );
  }
  const counted = new Int32Array(clips.length);
  for (let r = 0; r < clipOf.length; r++) {
    if (r > 0 && clipOf[r] < clipOf[r - 1]) {
      throw new TorchmotionError(
        `${file}: Cun goes back from clip ${clipOf[r - 1]} to ${clipOf[r]} at row ${r}, ` +
          'but an export writes the rows in clip order'
      );
    }
    counted[clipOf[r]]++;
  }
  const off = clips.findIndex((c, i) => c.rows !== counted[i]);
  if (off >= 0) {
    throw new TorchmotionError(
      `${clipsFile}: [${off}].rows is ${clips[off].rows}, but Cun of ${file} gives ` + `that clip ${counted[off]} rows`
    );
  }
  const first = new Map<string, number>();
  clips.forEach((c, i) => {
    if (first.has(c.name)) {
      throw new TorchmotionError(
        `${clipsFile}: [${i}].name is ${describe(c.name)}, the name of ` + `[${first.get(c.name)}] too`
      );
    }
    first.set(c.name, i);
  });
}

export function readPfnnDatabase(dir: string): PfnnDatabase {
  const file = join(dir, 'database.npz');
  if (!existsSync(file))
    throw new TorchmotionError(
      `${dir} has no database.npz: make one with \`torchmotion pfnn database <dataset> --split train -o ${dir}\``
    );
  const clipsFile = join(dir, 'clips.json');
  const npz = readNpz(file);
  if (!npz.Cun || !existsSync(clipsFile)) {
    throw new TorchmotionError(
      `${dir} was exported without clip numbers (Cun, clips.json), which the held-out split needs: ` +
        `export it again with this version`
    );
  }
  const { Xun, Yun, Pun, Cun } = npz;
  if (
    !Xun ||
    !Yun ||
    !Pun ||
    Xun.shape.length !== 2 ||
    Yun.shape.length !== 2 ||
    Pun.shape.length !== 1 ||
    Cun.shape.length !== 1 ||
    Xun.shape[0] !== Yun.shape[0] ||
    Pun.shape[0] !== Xun.shape[0] ||
    Cun.shape[0] !== Xun.shape[0] ||
    Xun.dtype !== 'f4' ||
    Yun.dtype !== 'f4' ||
    Pun.dtype !== 'f4' ||
    Cun.dtype !== 'i4'
  ) {
    throw new TorchmotionError(
      `${file}: expected Xun (rows, X) and Yun (rows, Y) float32, Pun (rows) float32 and Cun (rows) int32`
    );
  }
  const [rows, input] = Xun.shape;
  const output = Yun.shape[1];
  // Training would take any widths, but quality, the runtime export and the page all read the SMPL-22 layout.
  if (input !== X_DIM || output !== Y_DIM) {
    throw new TorchmotionError(
      `${file}: Xun has ${input} columns and Yun ${output}, but a PFNN database has the ` +
        `SMPL-22 layout of \`torchmotion pfnn database\` (${X_DIM} and ${Y_DIM})`
    );
  }
  const clips = parseJson(clipsFile, clipList, readJson(clipsFile));
  const clipOf = Cun.data as Int32Array;
  checkClips(file, clipsFile, clips, clipOf);
  const stats = readPfnnStats(dir, input, output);
  const x = Xun.data as Float32Array;
  const y = Yun.data as Float32Array;
  const phase = Pun.data as Float32Array;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < input; c++) x[r * input + c] = (x[r * input + c] - stats.Xmean[c]) / stats.Xstd[c];
    for (let c = 0; c < output; c++) y[r * output + c] = (y[r * output + c] - stats.Ymean[c]) / stats.Ystd[c];
  }
  const bad = [x, y, phase].findIndex((a) => !a.every(Number.isFinite));
  if (bad >= 0)
    throw new TorchmotionError(`${file}: ${['Xun', 'Yun', 'Pun'][bad]} holds NaN or Inf: export the database again`);
  if (!phase.every((p) => p >= 0 && p < 1)) throw new TorchmotionError(`${file}: Pun must lie in [0, 1)`);
  return { dir, rows, input, output, x, y, phase, clipOf, clips, stats };
}

// Rows of held-out clips and of the rest: every clip group (a clip and its mirror) goes to one side, chosen by a
// fixed hash of the source clip's name, so the split does not change when clips are added or reordered.
export function splitByClip(
  db: PfnnDatabase,
  heldOut: number
): { train: Int32Array; heldOut: Int32Array; heldOutClips: string[] } {
  const hash = (s: string) => {
    let h = 2166136261;
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
    return (h >>> 0) / 2 ** 32;
  };
  const out = db.clips.map((c) => hash(c.source) < heldOut);
  const train: number[] = [];
  const held: number[] = [];
  for (let r = 0; r < db.rows; r++) (out[db.clipOf[r]] ? held : train).push(r);
  if (train.length === 0)
    throw new TorchmotionError(
      `${db.dir}: no training rows are left after holding out ${heldOut} of the clips: lower train.heldOut`
    );
  return {
    train: Int32Array.from(train),
    heldOut: Int32Array.from(held),
    heldOutClips: db.clips.filter((_, c) => out[c]).map((c) => c.name),
  };
}

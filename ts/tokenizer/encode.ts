// Encodes every clip of a split into one flat int32 file (codes.i32) with an offsets index (offsets.i64, N+1
// little-endian int64) and names.txt; memory-mappable and resumable: a rerun continues after the last clip whose
// offset was written, truncating any half-written codes. A residual (RVQ) tokenizer gives each clip's codes as
// (T', layers), row-major: offsets count int32 values (T' × layers a clip) and index.json records `layers`.
import {
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

import { z } from 'zod';

import { buildIndex } from '../data/dataset.js';
import { wholeClips } from '../data/loader.js';
import { readDatasetMeanStd } from '../data/motion-files.js';
import { TorchmotionError } from '../errors.js';
import { DIM } from '../motion/repr272.js';
import { createProgress } from '../train/progress.js';
import type { TokenizerModel } from './model.js';

export interface EncodedIndex {
  clips: number;
  tokens: number;
  codebookSize: number;
  downsampling: number;
  checkpoint: string;
  split: string;
  complete: boolean;
  layers?: number; // RVQ: codes per token (one per layer), each clip's codes (T', layers); absent: one code per token
}

function readOffsets(dir: string): BigInt64Array {
  const f = join(dir, 'offsets.i64');
  if (!existsSync(f)) return new BigInt64Array([0n]);
  const b = readFileSync(f);
  return new BigInt64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length - (b.length % 8)));
}

// The split `tokenizer encode` reads when not told: all of it (the t2m folder's lists).
export const encodeSettings = z
  .object({
    split: z.string().default('all'),
  })
  .strict();

export async function encodeDataset(
  model: TokenizerModel,
  root: string,
  out: string,
  o: { split?: string; checkpoint: string; threads?: number; log?: (l: string) => void }
): Promise<EncodedIndex> {
  const { split } = encodeSettings.parse({ split: o.split });
  const { index } = buildIndex(root, { split, stage: 't2m', minFrames: model.downsampling, maxFrames: Infinity });
  const stats = readDatasetMeanStd(root);
  mkdirSync(out, { recursive: true });
  // Codes per token: the layer axis of the codes the tokenizer gives (RVQ), else 1.
  const probe = await model.encode(
    { data: new Float32Array(model.downsampling * DIM), shape: [1, model.downsampling, DIM] },
    o.threads
  );
  const layers = probe.shape[2] ?? 1;
  const namesFile = join(out, 'names.txt');
  const done = existsSync(namesFile) ? readFileSync(namesFile, 'utf8').split('\n').filter(Boolean) : [];
  let offsets = readOffsets(out);
  if (offsets.length < done.length + 1)
    throw new TorchmotionError(`${out}: offsets.i64 is shorter than names.txt; delete ${out} and encode again`);
  offsets = offsets.slice(0, done.length + 1);
  for (let i = 0; i < done.length; i++) {
    if (done[i] !== index.names[i])
      throw new TorchmotionError(
        `${out} was encoded from a different split (clip ${i}: ${done[i]} vs ${index.names[i]}); use another --out`
      );
  }
  // Drop anything written after the last complete clip.
  const codesFile = join(out, 'codes.i32');
  const codesFd = openSync(codesFile, existsSync(codesFile) ? 'r+' : 'w+');
  ftruncateSync(codesFd, Number(offsets[done.length]) * 4);
  const offFd = openSync(join(out, 'offsets.i64'), 'w');
  writeSync(offFd, new Uint8Array(offsets.buffer));
  let position = Number(offsets[done.length]);
  const namesFd = openSync(namesFile, 'a');
  const progress = createProgress(index.names.length, done.length, 'clip', o.log, 50);
  let n = done.length;
  try {
    for await (const clip of wholeClips(index, stats, done.length)) {
      if (!clip.finite) {
        throw new TorchmotionError(
          `${clip.name} (split ${split} of ${root}) holds NaN or Inf: its codes would be meaningless. ` +
            `Remove it from the split or fix the file, then run encode again (it continues ` +
            `after the ${n} clips already done)`
        );
      }
      const T = clip.data.length / DIM - ((clip.data.length / DIM) % model.downsampling); // cropped to whole tokens
      const codes = await model.encode({ data: clip.data.subarray(0, T * DIM), shape: [1, T, DIM] }, o.threads);
      const c = codes.data as Int32Array;
      writeSync(codesFd, new Uint8Array(c.buffer, c.byteOffset, c.byteLength), 0, c.byteLength, position * 4);
      position += c.length;
      writeSync(offFd, new Uint8Array(new BigInt64Array([BigInt(position)]).buffer));
      writeSync(namesFd, clip.name + '\n');
      progress.update(++n, { tokens: String(position / layers) });
    }
  } finally {
    progress.stop();
    closeSync(codesFd);
    closeSync(offFd);
    closeSync(namesFd);
  }
  const result: EncodedIndex = {
    clips: n,
    tokens: position / layers,
    codebookSize: model.codebookSize,
    downsampling: model.downsampling,
    checkpoint: o.checkpoint,
    split,
    complete: true,
    ...(probe.shape.length === 3 && { layers }),
  };
  writeFileSync(join(out, 'index.json'), JSON.stringify(result, null, 2));
  return result;
}

// Random access to encoded codes without loading the whole file.
export class EncodedCodes {
  readonly names: string[];
  readonly offsets: BigInt64Array;
  readonly info: EncodedIndex;
  private fd: number;

  constructor(readonly dir: string) {
    const file = join(dir, 'index.json');
    if (!existsSync(file))
      throw new TorchmotionError(`${dir} has no index.json: run \`torchmotion tokenizer encode\` (again) to finish it`);
    this.info = JSON.parse(readFileSync(file, 'utf8'));
    this.names = readFileSync(join(dir, 'names.txt'), 'utf8').split('\n').filter(Boolean);
    this.offsets = readOffsets(dir);
    this.fd = openSync(join(dir, 'codes.i32'), 'r');
    if (statSync(join(dir, 'codes.i32')).size < Number(this.offsets[this.names.length]) * 4)
      throw new TorchmotionError(`${dir}/codes.i32 is truncated`);
  }

  codes(i: number): Int32Array {
    const a = Number(this.offsets[i]);
    const b = Number(this.offsets[i + 1]);
    const out = new Int32Array(b - a);
    if (b > a) {
      readSync(this.fd, new Uint8Array(out.buffer), 0, (b - a) * 4, a * 4);
    }
    return out;
  }

  close(): void {
    closeSync(this.fd);
  }
}

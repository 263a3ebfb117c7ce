// Streams training batches from an index: random windows (tokenizer training) or whole clips (encoding).
// Reads only the rows a batch needs, with async reads that overlap the native training step; memory is the
// index (a few bytes per clip) plus the batches in flight, whatever the number of clips.
import { open } from 'node:fs/promises';

import { TorchmotionError } from '../errors.js';
import { DIM } from '../motion/repr272.js';
import type { MeanStd } from '../motion/normalize.js';
import { Rng } from '../rng.js';
import type { DatasetIndex } from './dataset.js';
import { motionFile } from './layout.js';
import { NpyFile } from './npy.js';

export interface WindowLoaderOptions {
  batchSize: number;
  window: number; // frames per window (96 in the reference)
  seed: number;
  stats?: MeanStd; // normalise with these when given
  prefetch?: number; // batches prepared ahead (default 2)
  // Data parallel: every rank draws the same global batch of batchSize × world windows (so the order of windows is
  // that of one process with the global batch, whatever the world size) and reads only its own batchSize of them.
  shard?: { rank: number; world: number };
}

// Everything needed to continue the exact same sequence of batches after a restart.
export interface LoaderState {
  epoch: number;
  position: number; // next index into the epoch's permutation
  rng: number; // the window-offset generator's state
}

export interface WindowBatch {
  data: Float32Array; // (batch, window, 272), normalised when stats were given
  shape: [number, number, number];
  clips: Int32Array; // index of each window's clip
  starts: Int32Array; // first frame of each window
  state: LoaderState; // the loader's state after this batch
}

async function readRows(
  index: DatasetIndex,
  clip: number,
  start: number,
  count: number,
  out: Float32Array,
  at: number
): Promise<void> {
  const file = motionFile(index.root, index.names[clip], index.motionDir);
  const item = index.fastPath[clip];
  if (item === 0) {
    const f = new NpyFile(file); // Fortran order or big-endian: the general (synchronous) path
    try {
      const rows = f.readRows(start, count).data as Float32Array | Float64Array;
      out.set(rows, at);
    } finally {
      f.close();
    }
    return;
  }
  const bytes = count * DIM * item;
  const buffer = new ArrayBuffer(bytes);
  const fh = await open(file, 'r');
  try {
    const { bytesRead } = await fh.read(new Uint8Array(buffer), 0, bytes, index.dataOffsets[clip] + start * DIM * item);
    if (bytesRead !== bytes)
      throw new TorchmotionError(`${file}: truncated: rows ${start}..${start + count} are past the end of the file`);
  } finally {
    await fh.close();
  }
  out.set(item === 4 ? new Float32Array(buffer) : new Float64Array(buffer), at);
}

function normalizeInPlace(a: Float32Array, from: number, to: number, stats: MeanStd): void {
  for (let i = from; i < to; i++) {
    const c = (i - from) % DIM;
    a[i] = (a[i] - stats.mean[c]) / stats.std[c];
  }
}

export class WindowLoader {
  private order: Int32Array;
  private state: LoaderState;
  private queue: Array<Promise<WindowBatch>> = [];
  private readonly eligible: Int32Array;

  constructor(
    private readonly index: DatasetIndex,
    private readonly options: WindowLoaderOptions,
    resume?: LoaderState
  ) {
    const { window, batchSize } = options;
    if (!Number.isInteger(window) || window < 1)
      throw new TorchmotionError(`window must be a positive integer, received ${window}`);
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new TorchmotionError(`batchSize must be a positive integer, received ${batchSize}`);
    const ok: number[] = [];
    for (let i = 0; i < index.frames.length; i++) if (index.frames[i] >= window) ok.push(i);
    if (ok.length === 0) {
      throw new TorchmotionError(
        `no clip in split '${index.split}' has the ${window} frames a window needs ` +
          `(${index.frames.length} clips indexed)`
      );
    }
    this.eligible = Int32Array.from(ok);
    this.state = resume ? { ...resume } : { epoch: 0, position: 0, rng: options.seed >>> 0 };
    this.order = this.permutation(this.state.epoch);
  }

  // The clip order of one epoch: a seeded Fisher–Yates shuffle, recomputed (not stored) on resume.
  private permutation(epoch: number): Int32Array {
    const p = this.eligible.slice();
    const rng = new Rng((this.options.seed ^ Math.imul(epoch + 1, 0x9e3779b1)) >>> 0);
    for (let i = p.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [p[i], p[j]] = [p[j], p[i]];
    }
    return p;
  }

  // Chooses the next batch's windows synchronously (so the order is fixed), then reads them asynchronously.
  private schedule(): Promise<WindowBatch> {
    const { batchSize, window, stats } = this.options;
    const { rank, world } = this.options.shard ?? { rank: 0, world: 1 };
    const allClips = new Int32Array(batchSize * world);
    const allStarts = new Int32Array(batchSize * world);
    const rng = new Rng(this.state.rng);
    for (let b = 0; b < allClips.length; b++) {
      if (this.state.position >= this.order.length) {
        this.state.epoch++;
        this.state.position = 0;
        this.order = this.permutation(this.state.epoch);
      }
      const clip = this.order[this.state.position++];
      allClips[b] = clip;
      allStarts[b] = rng.int(this.index.frames[clip] - window + 1);
    }
    const clips = allClips.subarray(rank * batchSize, (rank + 1) * batchSize);
    const starts = allStarts.subarray(rank * batchSize, (rank + 1) * batchSize);
    this.state.rng = rng.state;
    const state = { ...this.state };
    const data = new Float32Array(batchSize * window * DIM);
    const reads = Array.from(clips, (clip, b) => readRows(this.index, clip, starts[b], window, data, b * window * DIM));
    return Promise.all(reads).then(() => {
      if (stats) normalizeInPlace(data, 0, data.length, stats);
      return { data, shape: [batchSize, window, DIM] as [number, number, number], clips, starts, state };
    });
  }

  // The next batch; keeps `prefetch` more in flight so reading overlaps the caller's training step.
  next(): Promise<WindowBatch> {
    const depth = (this.options.prefetch ?? 2) + 1;
    while (this.queue.length < depth) this.queue.push(this.schedule());
    return this.queue.shift()!;
  }
}

// Whole clips in index order (for encoding and evaluation), one at a time, normalised when stats are given;
// `finite` is false when a value is NaN or Inf (the index reads headers only, unless --scan-values).
export async function* wholeClips(
  index: DatasetIndex,
  stats?: MeanStd,
  from = 0
): AsyncGenerator<{ clip: number; name: string; data: Float32Array; finite: boolean }> {
  for (let clip = from; clip < index.names.length; clip++) {
    const T = index.frames[clip];
    const data = new Float32Array(T * DIM);
    await readRows(index, clip, 0, T, data, 0);
    if (stats) normalizeInPlace(data, 0, data.length, stats);
    yield { clip, name: index.names[clip], data, finite: data.every(Number.isFinite) };
  }
}

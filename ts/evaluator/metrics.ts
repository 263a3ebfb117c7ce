// The field's text-to-motion metrics on evaluator embeddings (docs/evaluation.md in ../shared has the protocol):
// R-precision, MM-Dist, FID, Diversity, MultiModality, and the mean ± 1.96·std/√repeats every table reports.
// Embeddings are row-major Float64Arrays of n rows × d; pairs are row i of the text and row i of the motion set.
import { invalid, TorchmotionError, withCallerStack } from '../errors.js';
import { native } from '../native.js';
import type { Rng } from '../rng.js';

export interface Embeddings {
  data: Float64Array;
  rows: number;
  dim: number;
}

export function embeddings(data: Float64Array, dim: number, what = 'embeddings'): Embeddings {
  if (!Number.isInteger(dim) || dim < 1 || data.length % dim !== 0)
    throw invalid(`${what}.dim`, `a divisor of ${data.length}`, dim);
  if (!data.every(Number.isFinite)) throw new TorchmotionError(`${what}: holds NaN or Inf`);
  return { data, rows: data.length / dim, dim };
}

function distance(a: Embeddings, i: number, b: Embeddings, j: number): number {
  let s = 0;
  for (let k = 0; k < a.dim; k++) s += (a.data[i * a.dim + k] - b.data[j * b.dim + k]) ** 2;
  return Math.sqrt(s);
}

function samePairs(text: Embeddings, motion: Embeddings): void {
  if (text.rows !== motion.rows || text.dim !== motion.dim) {
    throw new TorchmotionError(
      `text (${text.rows} × ${text.dim}) and motion (${motion.rows} × ${motion.dim}) embeddings must pair row for row`
    );
  }
}

// Top-1…topK R-precision in consecutive batches of `batch` pairs (a trailing partial batch is left out, as the
// reference does; with fewer pairs than `batch`, one batch of all of them: chance is then 1/n, and `batch` says so).
export function rPrecision(
  text: Embeddings,
  motion: Embeddings,
  batch = 32,
  topK = 3
): { top: number[]; batch: number; pairs: number } {
  samePairs(text, motion);
  const size = Math.min(batch, text.rows);
  if (size < 1) throw new TorchmotionError('R-precision needs at least one pair');
  const hits = new Array<number>(topK).fill(0);
  const batches = Math.floor(text.rows / size);
  for (let b = 0; b < batches; b++) {
    for (let i = b * size; i < (b + 1) * size; i++) {
      const own = distance(text, i, motion, i);
      let closer = 0; // the motions of the batch nearer this caption than its own
      for (let j = b * size; j < (b + 1) * size; j++) if (j !== i && distance(text, i, motion, j) < own) closer++;
      for (let k = closer; k < topK; k++) hits[k]++;
    }
  }
  const pairs = batches * size;
  return { top: hits.map((h) => h / pairs), batch: size, pairs };
}

// Mean distance between each caption's embedding and its motion's (the matching score).
export function mmDist(text: Embeddings, motion: Embeddings): number {
  samePairs(text, motion);
  let s = 0;
  for (let i = 0; i < text.rows; i++) s += distance(text, i, motion, i);
  return s / text.rows;
}

// `count` distinct indices from [0, n), in draw order (a partial Fisher–Yates shuffle).
export function sampleWithoutReplacement(rng: Rng, n: number, count: number): Int32Array {
  if (count > n) throw new TorchmotionError(`cannot draw ${count} distinct items from ${n}`);
  const pool = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + rng.int(n - i);
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, count);
}

// Mean distance between `pairs` random pairs of motions: two independent draws without replacement.
export function diversity(motion: Embeddings, rng: Rng, pairs = 300): number {
  const first = sampleWithoutReplacement(rng, motion.rows, pairs);
  const second = sampleWithoutReplacement(rng, motion.rows, pairs);
  let s = 0;
  for (let k = 0; k < pairs; k++) s += distance(motion, first[k], motion, second[k]);
  return s / pairs;
}

// generations: N captions × M motions each, row c·M + m. For every caption the mean distance between `pairs` random
// pairs of its M motions (the same draws for every caption, as the reference), averaged over captions.
export function multimodality(generations: Embeddings, perCaption: number, rng: Rng, pairs = 10): number {
  if (generations.rows % perCaption !== 0)
    throw invalid('perCaption', `a divisor of ${generations.rows} rows`, perCaption);
  const first = sampleWithoutReplacement(rng, perCaption, pairs);
  const second = sampleWithoutReplacement(rng, perCaption, pairs);
  const captions = generations.rows / perCaption;
  let s = 0;
  for (let c = 0; c < captions; c++) {
    for (let k = 0; k < pairs; k++)
      s += distance(generations, c * perCaption + first[k], generations, c * perCaption + second[k]);
  }
  return s / (captions * pairs);
}

// Fréchet distance between the Gaussian fits of two embedding sets (LibTorch, float64: native/ops/metrics.cc).
export function fid(real: Embeddings, generated: Embeddings): Promise<number> {
  if (real.dim !== generated.dim)
    throw new TorchmotionError(`FID: ${real.dim}-wide and ${generated.dim}-wide embeddings cannot be compared`);
  return withCallerStack(() =>
    native().fid(
      { data: real.data, shape: [real.rows, real.dim] },
      { data: generated.data, shape: [generated.rows, generated.dim] }
    )
  );
}

// The repetitions of a metric as a table reports them: mean and the 95 % half-width 1.96·std/√n (population std).
export function meanInterval(values: number[]): { mean: number; interval: number } {
  const n = values.length;
  if (n === 0) throw new TorchmotionError('no repetitions to summarise');
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / n);
  return { mean, interval: (1.96 * std) / Math.sqrt(n) };
}

// Normalisation of 272 motions: per-channel mean, std averaged within each channel group (which also keeps
// constant channels such as dims 8 and 10 from dividing by zero).
import { TorchmotionError } from '../errors.js';
import { DIM, GROUP_RANGES } from './repr272.js';

export interface MeanStd {
  mean: Float64Array;
  std: Float64Array;
}

function check(stats: MeanStd): void {
  if (stats.mean.length !== DIM || stats.std.length !== DIM) {
    throw new TorchmotionError(
      `mean/std must have ${DIM} channels, received ${stats.mean.length} and ${stats.std.length}`
    );
  }
  const zero = stats.std.findIndex((s) => !(s > 0));
  if (zero >= 0) throw new TorchmotionError(`std channel ${zero} is ${stats.std[zero]}: every std must be positive`);
}

export function normalize<A extends Float32Array | Float64Array>(x: A, stats: MeanStd): A {
  check(stats);
  const out = x.slice() as A;
  for (let i = 0; i < out.length; i++) out[i] = (out[i] - stats.mean[i % DIM]) / stats.std[i % DIM];
  return out;
}

export function denormalize<A extends Float32Array | Float64Array>(x: A, stats: MeanStd): A {
  check(stats);
  const out = x.slice() as A;
  for (let i = 0; i < out.length; i++) out[i] = out[i] * stats.std[i % DIM] + stats.mean[i % DIM];
  return out;
}

// Streaming statistics over many clips (Chan's parallel update in float64): memory is O(channels), not O(frames).
export class MotionStatistics {
  private n = 0;
  private mean = new Float64Array(DIM);
  private m2 = new Float64Array(DIM);
  skipped = 0;

  // Adds one clip (T,272); a clip holding NaN or Inf is skipped and counted, as the reference skips it.
  add(x: ArrayLike<number>): boolean {
    const T = x.length / DIM;
    for (let i = 0; i < x.length; i++) {
      if (!Number.isFinite(x[i])) {
        this.skipped++;
        return false;
      }
    }
    if (T === 0) return true;
    const cm = new Float64Array(DIM);
    const c2 = new Float64Array(DIM);
    for (let t = 0; t < T; t++) for (let c = 0; c < DIM; c++) cm[c] += x[t * DIM + c];
    for (let c = 0; c < DIM; c++) cm[c] /= T;
    for (let t = 0; t < T; t++) for (let c = 0; c < DIM; c++) c2[c] += (x[t * DIM + c] - cm[c]) ** 2;
    const n = this.n + T;
    for (let c = 0; c < DIM; c++) {
      const delta = cm[c] - this.mean[c];
      this.mean[c] += (delta * T) / n;
      this.m2[c] += c2[c] + (delta * delta * this.n * T) / n;
    }
    this.n = n;
    return true;
  }

  get frames(): number {
    return this.n;
  }

  // Population std per channel, then averaged within each group (GROUP_RANGES).
  result(): MeanStd {
    if (this.n === 0) throw new TorchmotionError('no frames were added: cannot compute mean/std');
    const std = new Float64Array(DIM);
    for (const [a, b] of GROUP_RANGES) {
      let s = 0;
      for (let c = a; c < b; c++) s += Math.sqrt(this.m2[c] / this.n);
      std.fill(s / (b - a), a, b);
    }
    return { mean: Float64Array.from(this.mean), std };
  }
}

// Tokenizer evaluation: MPJPE (mm) on globally recovered joints with the pelvis subtracted per frame (as the
// reference), codebook usage, perplexity and dead codes, and with a retrieval evaluator the reconstruction FID (its
// embeddings of the reconstructions against those of the clips, the first maxFrames frames of each). Codes are counted
// into one array of codebook size (bincount), clip by clip, so memory does not grow with the number of tokens. A
// residual (RVQ) tokenizer's usage is that of its layer 0 (the coarse code every step has), with every layer's in
// `layerUsage`.
import { z } from 'zod';

import { buildIndex, indexSettings, type StageName } from '../data/dataset.js';
import { wholeClips } from '../data/loader.js';
import { readDatasetMeanStd } from '../data/motion-files.js';
import { TorchmotionError } from '../errors.js';
import { denormalize } from '../motion/normalize.js';
import { DIM, recoverJoints } from '../motion/repr272.js';
import { EmbeddingPairs } from '../evaluator/embedding-pairs.js';
import type { LoadedEvaluator } from '../evaluator/model.js';
import type { TokenizerModel } from './model.js';

export interface TokenizerEval {
  clips: number;
  frames: number;
  mpjpeMm: number;
  codebookSize: number;
  usedCodes: number;
  usagePercent: number;
  perplexity: number;
  deadCodes: number;
  nonFinite: string[]; // clips left out because they hold NaN or Inf
  fid?: number; // reconstruction FID, when an evaluator was given
  layerUsage?: CodeUsage[]; // RVQ: usage of each layer's codebook (the fields above are layer 0's)
}

export type CodeUsage = ReturnType<CodeCounter['summary']>;

// Mean over frames and joints of ‖(r_j − r_pelvis) − (g_j − g_pelvis)‖, in metres.
export function pelvisRelativeError(a: Float64Array, b: Float64Array): { sum: number; count: number } {
  let sum = 0;
  const T = a.length / 66;
  for (let t = 0; t < T; t++) {
    const o = t * 66;
    for (let j = 0; j < 22; j++) {
      const dx = a[o + 3 * j] - a[o] - (b[o + 3 * j] - b[o]);
      const dy = a[o + 3 * j + 1] - a[o + 1] - (b[o + 3 * j + 1] - b[o + 1]);
      const dz = a[o + 3 * j + 2] - a[o + 2] - (b[o + 3 * j + 2] - b[o + 2]);
      sum += Math.hypot(dx, dy, dz);
    }
  }
  return { sum, count: T * 22 };
}

export class CodeCounter {
  readonly counts: Float64Array;
  constructor(size: number) {
    this.counts = new Float64Array(size);
  }
  // Every code, or of (…, layers) codes those of one layer.
  add(codes: ArrayLike<number>, layer = 0, layers = 1): void {
    for (let i = layer; i < codes.length; i += layers) this.counts[codes[i]]++;
  }
  summary() {
    let total = 0;
    let used = 0;
    for (const c of this.counts) {
      total += c;
      if (c > 0) used++;
    }
    let entropy = 0;
    for (const c of this.counts) if (c > 0) entropy -= (c / total) * Math.log(c / total);
    const size = this.counts.length;
    return {
      codebookSize: size,
      usedCodes: used,
      usagePercent: (100 * used) / size,
      perplexity: Math.exp(entropy),
      deadCodes: size - used,
    };
  }
}

// What an evaluation reads when not told: the val split's clips within the reference's evaluation limits (120..600).
export const tokenizerEvalSettings = z
  .object({
    split: z.string().default('val'),
    stage: indexSettings.shape.stage.removeDefault().default('tokenizer-eval'),
  })
  .strict();

export interface EvalOptions {
  split?: string;
  stage?: StageName;
  minFrames?: number;
  maxFrames?: number;
  maxClips?: number;
  threads?: number;
  evaluator?: LoadedEvaluator;
}

export async function evaluateTokenizer(
  model: TokenizerModel,
  root: string,
  o: EvalOptions = {}
): Promise<TokenizerEval> {
  const { split, stage } = tokenizerEvalSettings.parse({ split: o.split, stage: o.stage });
  const { index } = buildIndex(root, { split, stage, minFrames: o.minFrames, maxFrames: o.maxFrames });
  if (index.names.length === 0)
    throw new TorchmotionError(`split '${split}' of ${root} has no clip to evaluate within the stage's length limits`);
  const stats = readDatasetMeanStd(root);
  const counters: CodeCounter[] = []; // one per layer of the codes
  let layered = false; // codes (1, T', layers)
  let err = 0;
  let count = 0;
  let clips = 0;
  let frames = 0;
  const nonFinite: string[] = [];
  const embedded = o.evaluator ? new EmbeddingPairs(o.evaluator, o.threads) : undefined;
  for await (const clip of wholeClips(index, stats)) {
    if (o.maxClips !== undefined && clips >= o.maxClips) break;
    if (!clip.finite) {
      nonFinite.push(clip.name);
      continue;
    }
    const T = clip.data.length / DIM - ((clip.data.length / DIM) % model.downsampling);
    if (T === 0) continue;
    const x = clip.data.subarray(0, T * DIM);
    const { reconstruction, codes } = await model.reconstruct({ data: x, shape: [1, T, DIM] }, o.threads);
    layered = codes.shape.length === 3;
    const layers = layered ? codes.shape[2] : 1;
    while (counters.length < layers) counters.push(new CodeCounter(model.codebookSize));
    counters.forEach((c, l) => c.add(codes.data as Int32Array, l, layers));
    const gt = recoverJoints(denormalize(Float64Array.from(x), stats));
    const rec = recoverJoints(denormalize(Float64Array.from(reconstruction.data as Float32Array), stats));
    const e = pelvisRelativeError(rec, gt);
    await embedded?.add(
      denormalize(Float64Array.from(x), stats),
      denormalize(Float64Array.from(reconstruction.data as Float32Array), stats)
    );
    err += e.sum;
    count += e.count;
    clips++;
    frames += T;
  }
  if (clips === 0 && nonFinite.length > 0)
    throw new TorchmotionError(
      `no clip of split '${split}' of ${root} could be evaluated: ${nonFinite.length} hold ` +
        `NaN or Inf (e.g. ${nonFinite[0]})`
    );
  const fid = embedded && clips >= 2 ? await embedded.fid() : undefined;
  const usage = (counters.length ? counters : [new CodeCounter(model.codebookSize)]).map((c) => c.summary());
  return {
    clips,
    frames,
    mpjpeMm: (1000 * err) / count,
    ...usage[0],
    nonFinite,
    ...(fid !== undefined && { fid }),
    ...(layered && { layerUsage: usage }),
  };
}

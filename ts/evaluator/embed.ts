// Embedding a split with the evaluator, a batch at a time: one (first) caption per clip, the clip's first maxFrames
// frames. Only the embeddings (latent floats a clip) are kept.
import { DIM } from '../motion/repr272.js';
import type { MeanStd } from '../motion/normalize.js';
import type { Embeddings } from './metrics.js';
import { motionBatch, normalizeFor, type CaptionSide, type EvaluatorModel } from './model.js';
import type { PairSet } from './pairs.js';
import { retrievalScores, type RetrievalScores } from './retrieval.js';

export function concatEmbeddings(parts: Embeddings[]): Embeddings {
  const dim = parts[0]?.dim ?? 0;
  const data = new Float64Array(parts.reduce((s, p) => s + p.data.length, 0));
  let at = 0;
  for (const p of parts) {
    data.set(p.data, at);
    at += p.data.length;
  }
  return { data, rows: data.length / Math.max(1, dim), dim };
}

export async function embedSplit(
  model: EvaluatorModel,
  text: CaptionSide,
  pairs: PairSet,
  stats: MeanStd,
  maxFrames: number,
  o: { batch?: number; limit?: number; threads?: number } = {}
): Promise<{ text: Embeddings; motion: Embeddings }> {
  const n = Math.min(pairs.clips, o.limit ?? Infinity);
  const size = o.batch ?? 32;
  const texts: Embeddings[] = [];
  const motions: Embeddings[] = [];
  for (let from = 0; from < n; from += size) {
    const clips = Array.from({ length: Math.min(size, n - from) }, (_, k) => from + k);
    const caps = clips.map((c) => pairs.captions(c)[0]);
    const m = clips.map((c, k) => {
      const x = pairs.motion(c, caps[k]);
      return normalizeFor(stats, x.subarray(0, Math.min(x.length / DIM, maxFrames) * DIM));
    });
    texts.push(await model.embedText(text.batch(caps.map((c) => c.text)), o.threads));
    motions.push(await model.embedMotion(motionBatch(m, maxFrames), o.threads));
  }
  return { text: concatEmbeddings(texts), motion: concatEmbeddings(motions) };
}

// The evaluator's retrieval on a split: over all pairs and in batches of 32.
export async function retrievalOnSplit(
  model: EvaluatorModel,
  text: CaptionSide,
  pairs: PairSet,
  stats: MeanStd,
  maxFrames: number,
  o: { limit?: number; threads?: number } = {}
): Promise<{ all: RetrievalScores; batch32: RetrievalScores }> {
  const e = await embedSplit(model, text, pairs, stats, maxFrames, o);
  return { all: retrievalScores(e.text, e.motion), batch32: retrievalScores(e.text, e.motion, 32) };
}

// The evaluator's own retrieval quality, as TMR reports it: recall at 1/2/3/5/10 and the median rank of the true
// pair, text→motion and motion→text, over the whole split and in batches of 32 (the protocol R-precision uses).
// Ranks count the candidates strictly nearer (Euclidean) than the true one, plus one.
import { TorchmotionError } from '../errors.js';
import type { Embeddings } from './metrics.js';

export const RECALL_AT = [1, 2, 3, 5, 10] as const;

export interface Recall {
  r1: number;
  r2: number;
  r3: number;
  r5: number;
  r10: number;
  medianRank: number;
}
export interface RetrievalScores {
  textToMotion: Recall;
  motionToText: Recall;
  pairs: number;
  batch: number;
}

function squaredDistance(a: Embeddings, i: number, b: Embeddings, j: number): number {
  let s = 0;
  for (let k = 0; k < a.dim; k++) s += (a.data[i * a.dim + k] - b.data[j * b.dim + k]) ** 2;
  return s;
}

// Rank of query i's own candidate among candidates [from, to) of the other side.
function rankOf(query: Embeddings, candidates: Embeddings, i: number, from: number, to: number): number {
  const own = squaredDistance(query, i, candidates, i);
  let rank = 1;
  for (let j = from; j < to; j++) if (j !== i && squaredDistance(query, i, candidates, j) < own) rank++;
  return rank;
}

function summarise(ranks: number[]): Recall {
  const at = (k: number) => ranks.filter((r) => r <= k).length / ranks.length;
  const sorted = [...ranks].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const medianRank = sorted.length % 2 ? sorted[Math.floor(mid)] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { r1: at(1), r2: at(2), r3: at(3), r5: at(5), r10: at(10), medianRank };
}

// `batch` undefined: every pair against the whole set; otherwise consecutive batches of that size (a trailing
// partial batch is left out; fewer pairs than `batch` make one batch of all of them).
export function retrievalScores(text: Embeddings, motion: Embeddings, batch?: number): RetrievalScores {
  if (text.rows !== motion.rows || text.dim !== motion.dim)
    throw new TorchmotionError('retrieval: text and motion embeddings must pair row for row');
  if (text.rows < 1) throw new TorchmotionError('retrieval needs at least one pair');
  const size = Math.min(batch ?? text.rows, text.rows);
  const t2m: number[] = [];
  const m2t: number[] = [];
  for (let from = 0; from + size <= text.rows; from += size) {
    for (let i = from; i < from + size; i++) {
      t2m.push(rankOf(text, motion, i, from, from + size));
      m2t.push(rankOf(motion, text, i, from, from + size));
    }
  }
  return { textToMotion: summarise(t2m), motionToText: summarise(m2t), pairs: t2m.length, batch: size };
}

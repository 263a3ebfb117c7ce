// `evaluator test`: how far to trust an evaluator — its retrieval on a split, as TMR reports it.
import { z } from 'zod';

import { requireCheckpoint } from '../train/checkpoint.js';
import { retrievalOnSplit } from './embed.js';
import { loadEvaluator } from './model.js';
import { PairSet } from './pairs.js';
import type { Recall, RetrievalScores } from './retrieval.js';

export interface EvaluatorTest {
  checkpoint: string;
  split: string;
  clips: number;
  all: RetrievalScores;
  batch32: RetrievalScores;
}

export const evaluatorTestSettings = z
  .object({
    split: z.string().default('test'),
  })
  .strict();

export async function testEvaluator(o: {
  ckpt: string;
  data?: string;
  split?: string;
  threads?: number;
}): Promise<EvaluatorTest> {
  const checkpoint = requireCheckpoint(o.ckpt);
  const ev = await loadEvaluator(checkpoint);
  try {
    const { split } = evaluatorTestSettings.parse({ split: o.split });
    const pairs = new PairSet(o.data ?? ev.state.dataRoot, split);
    const { all, batch32 } = await retrievalOnSplit(ev.model, ev.text, pairs, ev.stats, ev.state.native.maxFrames, {
      threads: o.threads,
    });
    return { checkpoint, split, clips: pairs.clips, all, batch32 };
  } finally {
    ev.text.close();
  }
}

export function formatRetrieval(t: EvaluatorTest): string {
  const pct = (x: number) => (100 * x).toFixed(1).padStart(5);
  const line = (name: string, r: Recall) =>
    `| ${name} | ${[r.r1, r.r2, r.r3, r.r5, r.r10].map(pct).join(' | ')} | ${r.medianRank} |`;
  const rows = (label: string, s: RetrievalScores) => [
    line(`${label}, text→motion`, s.textToMotion),
    line(`${label}, motion→text`, s.motionToText),
  ];
  return [
    `evaluator ${t.checkpoint}, split ${t.split}: ${t.clips} pairs (first caption of each clip)`,
    '| protocol | R@1 | R@2 | R@3 | R@5 | R@10 | median rank |',
    '|---|---|---|---|---|---|---|',
    ...rows(`all ${t.all.pairs}`, t.all),
    ...rows(`batches of ${t.batch32.batch}`, t.batch32),
  ].join('\n');
}

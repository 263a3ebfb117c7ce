// trainEvaluator: the retrieval evaluator's model, batch source and step on the shared run (ts/train/run.ts):
// batches of distinct clips with a random caption and window, symmetric InfoNCE with near-duplicate captions
// excluded as negatives, AdamW with warm-up; every `train.evalEvery` steps the retrieval recall on
// `train.evalSplit` goes into metrics.jsonl. Checkpoints record the caption vocabulary, the batch RNG and the
// mean/std the evaluator normalises with.
import type { z } from 'zod';

import { readDatasetMeanStd } from '../data/motion-files.js';
import { distEnv } from '../distributed/group.js';
import { TorchmotionError } from '../errors.js';
import { Rng } from '../rng.js';
import { setThreads } from '../runtime.js';
import { EmbeddingCache } from '../t2m/embedding-cache.js';
import { checkCacheCovers } from '../t2m/text.js';
import { Vocabulary } from '../t2m/vocab.js';
import { openRun, sameSettings, schedule, type RunOptions, type RunResult } from '../train/run.js';
import { adamWSettings } from '../model-base.js';
import { evaluatorConfig, evaluatorLearningRate, evaluatorShape, type EvaluatorConfig } from './config.js';
import { duplicateMask } from './duplicates.js';
import { retrievalOnSplit } from './embed.js';
import { CaptionSide, EvaluatorModel, motionBatch, type EvaluatorCheckpointState } from './model.js';
import { PairSet } from './pairs.js';

export type TrainEvaluatorOptions = RunOptions;

// The step's dropout seed: a different one every step, the same on a resumed run.
const stepSeed = (seed: number, step: number) => seed * 1000003 + step;

function openCache(config: EvaluatorConfig): EmbeddingCache {
  if (!config.data.embeddings) {
    throw new TorchmotionError(
      'model.text "embeddings" needs data.embeddings: a caption-embedding cache built with `torchmotion t2m embed`'
    );
  }
  return new EmbeddingCache(config.data.embeddings);
}

export async function trainEvaluator(
  input: z.input<typeof evaluatorConfig>,
  options: TrainEvaluatorOptions
): Promise<RunResult> {
  const config = evaluatorConfig.parse(input);
  const t = config.train;
  const m = config.model;
  if (t.threads) setThreads(t.threads);
  // InfoNCE takes its negatives from the batch: split over ranks, each would see only its share of them, which is a
  // different objective from one process's, so the evaluator trains in one process until it gathers embeddings.
  if ((options.group?.worldSize ?? distEnv()?.worldSize ?? 1) > 1) {
    throw new TorchmotionError(
      'evaluator train runs in one process: its contrastive loss needs every sample of the batch as a negative ' +
        '(run it without launch/torchrun; it is small)'
    );
  }
  const run = openRun<EvaluatorCheckpointState>('evaluator', options);
  const data = new PairSet(config.data.root, config.data.split);
  const heldOut = t.evalEvery > 0 ? new PairSet(config.data.root, t.evalSplit) : undefined;
  const stats = run.saved
    ? { mean: Float64Array.from(run.saved.mean), std: Float64Array.from(run.saved.std) }
    : readDatasetMeanStd(config.data.root);
  const vocab = run.saved ? new Vocabulary(run.saved.vocab) : Vocabulary.build(data.allCaptions());
  const cache = m.text === 'embeddings' ? openCache(config) : undefined;
  const text = new CaptionSide(m.maxWords + 1, cache ? undefined : vocab, cache);
  try {
    if (cache) checkCacheCovers(cache, [...data.allCaptions(), ...(heldOut?.allCaptions() ?? [])], false);
    const shape = evaluatorShape(m, vocab.size, cache?.dim);
    if (run.saved && !sameSettings(run.saved.native, shape))
      throw new TorchmotionError(`${run.checkpoint} has a different model shape; resume with its config`);
    const model = new EvaluatorModel(shape, { seed: t.seed, device: t.device, optimizer: adamWSettings(t) });
    const rng = new Rng(t.seed);
    if (run.saved) rng.state = run.saved.rng;
    const batch = Math.min(t.batch, data.clips);
    return await run.train({
      model,
      config,
      ...schedule(t),
      step: async (s) => {
        const b = data.batch(rng, batch, m.maxFrames, stats);
        const lr = evaluatorLearningRate(s, t);
        const t0 = performance.now();
        const r = await model.step(
          {
            ...text.batch(b.captions),
            ...motionBatch(b.motions, m.maxFrames),
            exclude: { data: duplicateMask(b.captions, b.clips, t.duplicateThreshold), shape: [batch, batch] },
          },
          {
            lr,
            clip: t.clip,
            temperature: t.temperature,
            seed: stepSeed(t.seed, s),
            ...(t.threads && { threads: t.threads }),
          }
        );
        const seconds = (performance.now() - t0) / 1000;
        return {
          metrics: { lr, loss: r.loss, inBatchAccuracy: r.accuracy, gradNorm: r.gradNorm, seconds },
          progress: { loss: r.loss.toFixed(3), acc: r.accuracy.toFixed(2), lr: lr.toExponential(2) },
          ...(r.nonFinite && { nonFinite: { reason: r.nonFinite, clips: b.names } }),
        };
      },
      evaluate: async () => {
        const { all, batch32 } = await retrievalOnSplit(model, text, heldOut!, stats, m.maxFrames, {
          threads: t.threads,
        });
        return {
          split: t.evalSplit,
          pairs: all.pairs,
          r1: all.textToMotion.r1,
          r5: all.textToMotion.r5,
          medianRank: all.textToMotion.medianRank,
          batchR1: batch32.textToMotion.r1,
          batchR3: batch32.textToMotion.r3,
          batch: batch32.batch,
        };
      },
      state: (step) => ({
        kind: 'evaluator',
        step,
        config,
        native: shape,
        vocab: vocab.words,
        rng: rng.state,
        mean: Array.from(stats.mean),
        std: Array.from(stats.std),
        dataRoot: config.data.root,
      }),
    });
  } finally {
    text.close();
  }
}

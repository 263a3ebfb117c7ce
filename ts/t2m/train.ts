// trainT2M: the decoder's model, batch source and step on the shared run (ts/train/run.ts): AdamW with
// warm-up then cosine, gradient clipping and accumulation, tokens/s in the progress bar; checkpoints record the
// caption vocabulary and the batch RNG, so a resumed run sees the same batches. With `train.evalEvery` the next-token
// loss and accuracy on up to `train.evalSamples` pairs of `train.evalSplit` go into metrics.jsonl (kind 'eval'): the
// training accuracy alone cannot tell learning from memorising.
import type { z } from 'zod';

import { dataSignature, groupFromEnv, trainingSettings } from '../distributed/group.js';
import { TorchmotionError } from '../errors.js';
import { Rng } from '../rng.js';
import { setThreads } from '../runtime.js';
import { openRun, sameSettings, schedule, type RunOptions, type RunResult } from '../train/run.js';
import { adamWSettings } from '../model-base.js';
import { nativeOptions, t2mConfig, t2mLearningRate, type T2MConfig } from './config.js';
import { T2MDataset } from './dataset.js';
import { EmbeddingCache } from './embedding-cache.js';
import { checkpointShape, T2MModel, type T2MCheckpointState, type T2MStep } from './model.js';
import { builtinBatch, cachedBatch, checkCacheCovers } from './text.js';
import { Vocabulary } from './vocab.js';

export type TrainT2MOptions = RunOptions;
export interface TrainT2MResult extends RunResult {
  last?: T2MStep;
}

export async function trainT2M(input: z.input<typeof t2mConfig>, options: TrainT2MOptions): Promise<TrainT2MResult> {
  const config = t2mConfig.parse(input);
  const t = config.train;
  if (t.threads) setThreads(t.threads);
  const group = options.group ?? groupFromEnv(t.device);
  const world = group?.worldSize ?? 1;
  if (t.batch % world !== 0)
    throw new TorchmotionError(
      `train.batch ${t.batch} must be a multiple of the ${world} ranks (it is the global batch)`
    );
  // Micro-batch k of a step is samples [k·batch, (k+1)·batch) of one draw of batch × accumulate; a rank assembles its
  // share of each.
  const share = Array.from({ length: t.accumulate }, (_, k) => ({
    from: k * t.batch + (group?.rank ?? 0) * (t.batch / world),
    to: k * t.batch + ((group?.rank ?? 0) + 1) * (t.batch / world),
  }));
  const run = openRun<T2MCheckpointState>('t2m', { ...options, group });
  // Everything opened here (codes, embedding cache) is closed however the call ends.
  const opened: Array<{ close(): void }> = [];
  try {
    const data = new T2MDataset(config.data.codes, config.data.root, config.data.split, config.model.maxMotionTokens);
    opened.push(data.codes);
    const vocab = run.saved ? new Vocabulary(run.saved.vocab) : Vocabulary.build(data.captions());
    const cache = config.model.text === 'embeddings' ? openCache(config, opened) : undefined;
    if (cache) checkCacheCovers(cache, data.captions(), t.condDrop > 0);
    const heldOut =
      t.evalEvery > 0
        ? new T2MDataset(config.data.codes, config.data.root, t.evalSplit, config.model.maxMotionTokens)
        : undefined;
    if (heldOut) opened.push(heldOut.codes);
    if (cache && heldOut) checkCacheCovers(cache, heldOut.captions(), false);
    const opts = nativeOptions(config.model, data.codes.info.codebookSize, vocab.size, cache?.dim);
    if (cache && opts.textDim !== cache.dim) {
      throw new TorchmotionError(
        `model.textDim ${opts.textDim} differs from the ${cache.dim}-wide embeddings in ${cache.dir}: ` +
          `remove model.textDim or set it to ${cache.dim}`
      );
    }
    if (run.saved && !sameSettings(checkpointShape(run.saved), opts)) {
      throw new TorchmotionError(`${run.checkpoint} has a different model shape; resume with its config`);
    }
    const text = (captions: string[]) =>
      cache ? cachedBatch(cache, captions) : builtinBatch(vocab, captions, config.model.textMaxLen);
    group?.checkSame(
      trainingSettings(config),
      `${dataSignature(
        data.codes.names,
        Array.from(data.samples, (s) => s.end - s.start)
      )} vocab ${vocab.size}`
    );
    const model = new T2MModel(opts, {
      seed: t.seed,
      device: group?.device(t.device) ?? t.device,
      optimizer: adamWSettings(t),
    });
    if (group) model.joinProcessGroup(group);
    const rng = new Rng(t.seed);
    if (run.saved) rng.state = run.saved.rng;
    let last: T2MStep | undefined;
    const result = await run.train({
      model,
      config,
      ...schedule(t),
      step: async (s) => {
        const lr = t2mLearningRate(s, t);
        const t0 = performance.now();
        // The step's loss is the mean over every token of its micro-batches and ranks, as one batch of
        // batch × accumulate would have it: each micro-batch's token mean is weighted by its share of the tokens.
        const micro = data.batches(
          rng,
          t.batch * t.accumulate,
          { text, end: model.end, pad: model.pad, tokenDrop: t.tokenDrop, condDrop: t.condDrop },
          share
        );
        const local = micro.reduce((n, b) => n + b.tokens, 0);
        const total = group ? Math.round(group.mean([local])[0] * world) : local;
        let lossSum = 0;
        let correct = 0;
        const clips: string[] = [];
        for (const [k, b] of micro.entries()) {
          clips.push(...b.clips);
          last = await model.step(b, {
            lr,
            clip: t.clip,
            update: k === t.accumulate - 1,
            lossScale: (b.tokens * world) / total,
            autocast: t.autocast,
            recompute: t.recompute,
            ...(t.threads && { threads: t.threads }),
          });
          lossSum += last.loss * b.tokens;
          correct += last.accuracy * b.tokens;
        }
        if (group) [lossSum, correct] = group.mean([lossSum, correct]).map((v) => v * world);
        const loss = lossSum / total;
        const accuracy = correct / total;
        const tokens = total;
        const seconds = (performance.now() - t0) / 1000;
        return {
          metrics: { lr, loss, accuracy, tokens, gradNorm: last!.gradNorm, seconds, tokensPerSecond: tokens / seconds },
          progress: {
            loss: loss.toFixed(3),
            acc: accuracy.toFixed(3),
            lr: lr.toExponential(2),
            'tokens/s': (tokens / seconds).toFixed(0),
          },
          // The update's verdict covers every micro-batch of the step (the addon remembers a bad one until then).
          ...(last!.nonFinite && { nonFinite: { reason: last!.nonFinite, clips } }),
        };
      },
      evaluate: async () => {
        let loss = 0;
        let correct = 0;
        let tokens = 0;
        for (const b of heldOut!.heldOut(t.batch, t.evalSamples, { text, end: model.end, pad: model.pad })) {
          const r = await model.evaluate(b, { autocast: t.autocast, ...(t.threads && { threads: t.threads }) });
          loss += r.loss * r.tokens;
          correct += r.accuracy * r.tokens;
          tokens += r.tokens;
        }
        return {
          loss: loss / tokens,
          accuracy: correct / tokens,
          tokens,
          samples: Math.min(t.evalSamples, heldOut!.samples.length),
        };
      },
      state: (step) => ({
        kind: 't2m',
        step,
        config,
        native: opts,
        vocab: vocab.words,
        rng: rng.state,
        tokenizer: data.codes.info.checkpoint,
        dataRoot: config.data.root,
      }),
    });
    return { ...result, last };
  } finally {
    for (const f of opened) f.close();
  }
}

function openCache(config: T2MConfig, opened: Array<{ close(): void }>): EmbeddingCache {
  if (!config.data.embeddings) {
    throw new TorchmotionError(
      'model.text "embeddings" needs data.embeddings: a caption-embedding cache built with `torchmotion t2m embed`'
    );
  }
  const cache = new EmbeddingCache(config.data.embeddings);
  opened.push(cache);
  return cache;
}

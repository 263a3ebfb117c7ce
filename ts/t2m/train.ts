// trainTextToMotion: AdamW with warm-up then cosine, gradient clipping and accumulation, checkpoints with exact
// resume and Ctrl-C as the tokenizer, metrics.jsonl, a progress bar with tokens/s.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { z } from 'zod';

import { TorchmotionError } from '../errors.js';
import { Rng } from '../rng.js';
import { setThreads } from '../runtime.js';
import { readCheckpointState, resolveCheckpoint, saveCheckpoint, type CheckpointState } from '../train/checkpoint.js';
import { MetricsLog } from '../train/metrics.js';
import { runTrainingLoop } from '../train/loop.js';
import { createProgress } from '../train/progress.js';
import { nativeOptions, t2mConfig, t2mLearningRate, type NativeT2MOptions, type T2MConfig } from './config.js';
import { T2MDataset } from './dataset.js';
import { T2MModel, type T2MStep } from './model.js';
import { EmbeddingCache } from './embedding-cache.js';
import { builtinBatch, cachedBatch, checkCacheCovers } from './text.js';
import { Vocabulary } from './vocab.js';

export interface T2MCheckpointState extends CheckpointState {
  kind: 't2m';
  config: T2MConfig;
  native: NativeT2MOptions;
  vocab: string[];
  rng: number;
  tokenizer: string;   // the tokenizer checkpoint the codes came from
  dataRoot: string;
}

export interface TrainT2MOptions { out: string; resume?: boolean; log?: (l: string) => void; stopAfter?: number }

export async function trainTextToMotion(input: z.input<typeof t2mConfig>, options: TrainT2MOptions) {
  const config = t2mConfig.parse(input);
  const t = config.train;
  if (t.threads) setThreads(t.threads);
  const run = options.out;
  const existing = existsSync(run) ? resolveCheckpoint(run) : undefined;
  if (existing && !options.resume) throw new TorchmotionError(`${run} already holds checkpoints: pass --resume to continue it, or choose another --out`);
  mkdirSync(run, { recursive: true });
  const data = new T2MDataset(config.data.codes, config.data.root, config.data.split, config.model.maxMotionTokens);
  const state0 = existing ? readCheckpointState<T2MCheckpointState>(existing) : undefined;
  const vocab = state0 ? new Vocabulary(state0.vocab) : Vocabulary.build(data.captions());
  const cache = config.model.text === 'embeddings' ? openCache(config, data, t.condDrop > 0) : undefined;
  const opts = nativeOptions(config.model, data.codes.info.codebookSize, vocab.size, cache?.dim);
  if (cache && opts.textDim !== cache.dim) {
    cache.close();
    throw new TorchmotionError(`model.textDim ${opts.textDim} differs from the ${cache.dim}-wide embeddings in ${cache.dir}: remove model.textDim or set it to ${cache.dim}`);
  }
  const text = (captions: string[]) => (cache ? cachedBatch(cache, captions) : builtinBatch(vocab, captions, config.model.textMaxLen));
  const model = new T2MModel(opts, { seed: t.seed, device: t.device, lr: t.lr, beta1: t.beta1, beta2: t.beta2, weightDecay: t.weightDecay });
  const metrics = new MetricsLog(join(run, 'metrics.jsonl'));
  let step = 0;
  const rng = new Rng(t.seed);
  if (existing && state0) {
    if (JSON.stringify(state0.native) !== JSON.stringify(opts)) throw new TorchmotionError(`${existing} has a different model shape; resume with its config`);
    await model.load(join(existing, 'model.pt'));
    step = state0.step;
    rng.state = state0.rng;
    metrics.truncateAfter(step);
  }
  writeFileSync(join(run, 'config.json'), JSON.stringify(config, null, 2));
  const progress = createProgress(t.steps, step, 'step', options.log, t.logEvery);
  let checkpoint = existing ?? '';
  let last: T2MStep | undefined;
  let result;
  try {
    result = await runTrainingLoop({
      start: step, total: t.steps, checkpointEvery: t.checkpointEvery, stopAfter: options.stopAfter,
      step: async (s) => {
        const lr = t2mLearningRate(s, t);
        const t0 = performance.now();
        let loss = 0;
        let accuracy = 0;
        let tokens = 0;
        for (let k = 0; k < t.accumulate; k++) {
          const b = data.batch(rng, t.batch, { text, end: model.end, pad: model.pad, tokenDrop: t.tokenDrop, condDrop: t.condDrop });
          last = await model.step(b, { lr, clip: t.clip, update: k === t.accumulate - 1, lossScale: 1 / t.accumulate, autocast: t.autocast, recompute: t.recompute,
            ...(t.threads && { threads: t.threads }) });
          loss += last.loss / t.accumulate;
          accuracy += last.accuracy / t.accumulate;
          tokens += b.tokens;
        }
        const seconds = (performance.now() - t0) / 1000;
        metrics.append({ step: s, lr, loss, accuracy, tokens, gradNorm: last!.gradNorm, seconds, tokensPerSecond: tokens / seconds });
        progress.update(s + 1, { loss: loss.toFixed(3), acc: accuracy.toFixed(3), lr: lr.toExponential(2), 'tokens/s': (tokens / seconds).toFixed(0) });
      },
      save: async (s) => {
        const ck: T2MCheckpointState = { kind: 't2m', step: s, config, native: opts, vocab: vocab.words, rng: rng.state,
          tokenizer: data.codes.info.checkpoint, dataRoot: config.data.root };
        checkpoint = await saveCheckpoint(run, ck, (f) => model.save(f));
      },
    });
  } finally {
    progress.stop();
    data.codes.close();
    cache?.close();
  }
  return { steps: result.steps, interrupted: result.interrupted, checkpoint, metrics: metrics.file, last };
}

function openCache(config: T2MConfig, data: T2MDataset, needEmpty: boolean): EmbeddingCache {
  if (!config.data.embeddings) {
    throw new TorchmotionError('model.text "embeddings" needs data.embeddings: a caption-embedding cache built with `torchmotion t2m embed`');
  }
  const cache = new EmbeddingCache(config.data.embeddings);
  checkCacheCovers(cache, data.captions(), needEmpty);
  return cache;
}

export async function loadTextToMotion(dir: string, device = 'cpu') {
  const state = readCheckpointState<T2MCheckpointState>(dir);
  if (state.kind !== 't2m') throw new TorchmotionError(`${dir} is a ${String(state.kind)} checkpoint, not a text-to-motion model`);
  const model = new T2MModel(state.native, { device });
  await model.load(join(dir, 'model.pt'));
  return { model, state, vocab: new Vocabulary(state.vocab) };
}

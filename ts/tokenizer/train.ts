// trainTokenizer: the training loop in TypeScript, one native step per batch, the next batch read while the step
// runs; checkpoints (model, optimiser, RNG, loader state) every N steps; exact resume; Ctrl-C saves and stops.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { z } from 'zod';

import { buildIndex } from '../data/dataset.js';
import { WindowLoader, type LoaderState } from '../data/loader.js';
import { readDatasetMeanStd } from '../data/motion-files.js';
import { TorchmotionError } from '../errors.js';
import { setThreads } from '../runtime.js';
import { readCheckpointState, resolveCheckpoint, saveCheckpoint, type CheckpointState } from '../train/checkpoint.js';
import { MetricsLog } from '../train/metrics.js';
import { runTrainingLoop } from '../train/loop.js';
import { createProgress } from '../train/progress.js';
import { evaluateTokenizer } from './evaluate.js';
import { learningRate, resolveModel, tokenizerConfig, type TokenizerConfig, type TokenizerModelConfig } from './config.js';
import { TokenizerModel, type StepResult } from './model.js';

export interface TokenizerCheckpointState extends CheckpointState {
  kind: 'tokenizer';
  model: TokenizerModelConfig;
  config: TokenizerConfig;
  loader: LoaderState;
  dataRoot: string;
}

export interface TrainTokenizerOptions {
  out: string;
  resume?: boolean;
  log?: (line: string) => void;   // plain lines instead of a progress bar
  stopAfter?: number;             // end (with a checkpoint) after this many steps in this call, as an interruption would
}

export interface TrainTokenizerResult {
  steps: number;        // the step the run reached
  interrupted: boolean;
  checkpoint: string;
  metrics: string;
  last?: StepResult;
}

export async function trainTokenizer(input: z.input<typeof tokenizerConfig>, options: TrainTokenizerOptions): Promise<TrainTokenizerResult> {
  const config = tokenizerConfig.parse(input);
  const t = config.train;
  const modelConfig = resolveModel(input);
  if (t.threads) setThreads(t.threads);
  const run = options.out;
  const existing = existsSync(run) ? resolveCheckpoint(run) : undefined;
  if (existing && !options.resume) {
    throw new TorchmotionError(`${run} already holds checkpoints: pass --resume to continue it, or choose another --out`);
  }
  mkdirSync(run, { recursive: true });
  const { index } = buildIndex(config.data.root, { split: config.data.split, stage: 'tokenizer', minFrames: t.window });
  const stats = readDatasetMeanStd(config.data.root);
  const model = new TokenizerModel(modelConfig, {
    seed: t.seed, device: t.device, optimizer: { lr: t.lr, beta1: t.beta1, beta2: t.beta2, weightDecay: t.weightDecay },
  });
  if (t.window % model.downsampling !== 0) {
    throw new TorchmotionError(`train.window ${t.window} must be a multiple of the tokenizer's downsampling ${model.downsampling}`);
  }
  const metrics = new MetricsLog(join(run, 'metrics.jsonl'));
  let step = 0;
  let loaderState: LoaderState | undefined;
  if (existing && options.resume) {
    const state = readCheckpointState<TokenizerCheckpointState>(existing);
    if (JSON.stringify(state.model) !== JSON.stringify(modelConfig)) {
      throw new TorchmotionError(`${existing} was trained with a different model config; resume with the same config`);
    }
    await model.load(join(existing, 'model.pt'));
    step = state.step;
    loaderState = state.loader;
    metrics.truncateAfter(step);
  }
  writeFileSync(join(run, 'config.json'), JSON.stringify({ ...config, model: modelConfig }, null, 2));
  const loader = new WindowLoader(index, { batchSize: t.batch, window: t.window, seed: t.seed, stats }, loaderState);

  const progress = createProgress(t.steps, step, 'step', options.log, t.logEvery);
  let checkpoint = existing ?? '';
  let last: StepResult | undefined;
  let state = loaderState ?? { epoch: 0, position: 0, rng: t.seed >>> 0 };
  let result;
  try {
    result = await runTrainingLoop({
      start: step, total: t.steps, checkpointEvery: t.checkpointEvery, stopAfter: options.stopAfter,
      step: async (s) => {
        const batch = await loader.next();
        const lr = learningRate(s, t);
        const t0 = performance.now();
        last = await model.step({ data: batch.data, shape: batch.shape }, {
          lr, clip: t.clip, velWeight: t.velWeight, commitBeta: t.commitBeta, autocast: t.autocast, ...(t.threads && { threads: t.threads }),
        });
        const seconds = (performance.now() - t0) / 1000;
        state = batch.state;
        metrics.append({ step: s, lr, ...last, seconds, framesPerSecond: (t.batch * t.window) / seconds });
        progress.update(s + 1, { loss: last.loss.toFixed(4), lr: lr.toExponential(2), 'frames/s': ((t.batch * t.window) / seconds).toFixed(0) });
        if (t.evalEvery > 0 && ((s + 1) % t.evalEvery === 0 || s + 1 === t.steps)) {
          const ev = await evaluateTokenizer(model, config.data.root, { split: t.evalSplit, minFrames: 0, maxClips: t.evalClips, threads: t.threads });
          metrics.append({ step: s, kind: 'eval', mpjpeMm: ev.mpjpeMm, usagePercent: ev.usagePercent, perplexity: ev.perplexity, clips: ev.clips });
        }
      },
      save: async (s) => {
        const ck: TokenizerCheckpointState = { kind: 'tokenizer', step: s, model: modelConfig, config, loader: state, dataRoot: config.data.root };
        checkpoint = await saveCheckpoint(run, ck, (file) => model.save(file));
      },
    });
  } finally {
    progress.stop();
  }
  return { steps: result.steps, interrupted: result.interrupted, checkpoint, metrics: metrics.file, last };
}

// A tokenizer from a checkpoint (or run) folder, ready for evaluation or encoding.
export async function loadTokenizer(dir: string, device = 'cpu'): Promise<{ model: TokenizerModel; state: TokenizerCheckpointState }> {
  const state = readCheckpointState<TokenizerCheckpointState>(dir);
  if (state.kind !== 'tokenizer') throw new TorchmotionError(`${dir} is a ${String(state.kind)} checkpoint, not a tokenizer`);
  const model = new TokenizerModel(state.model, { device });
  await model.load(join(dir, 'model.pt'));
  return { model, state };
}

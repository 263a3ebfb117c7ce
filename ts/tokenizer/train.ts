// trainTokenizer: the tokenizer's model, batch source and step on the shared run (ts/train/run.ts): random windows
// read while the native step runs, the reference's learning-rate schedule, held-out MPJPE and usage every
// `train.evalEvery` steps; checkpoints record the loader position, so a resumed run sees the same batches.
import type { z } from 'zod';

import { buildIndex } from '../data/dataset.js';
import { dataSignature, groupFromEnv, trainingSettings } from '../distributed/group.js';
import { WindowLoader, type LoaderState } from '../data/loader.js';
import { readDatasetMeanStd } from '../data/motion-files.js';
import { TorchmotionError } from '../errors.js';
import { setThreads } from '../runtime.js';
import { openRun, sameSettings, schedule, type RunOptions, type RunResult } from '../train/run.js';
import { adamWSettings } from '../model-base.js';
import { evaluateTokenizer } from './evaluate.js';
import { learningRate, resolveModel, tokenizerConfig, tokenizerModel } from './config.js';
import { TokenizerModel, type StepResult, type TokenizerCheckpointState } from './model.js';

export type TrainTokenizerOptions = RunOptions;
export interface TrainTokenizerResult extends RunResult {
  last?: StepResult;
}

// The step's numbers for metrics.jsonl (without the gradients a test may ask the step for).
function losses({ gradients: _inspected, nonFinite: _none, ...numbers }: StepResult): Record<string, number> {
  return numbers;
}

export async function trainTokenizer(
  input: z.input<typeof tokenizerConfig>,
  options: TrainTokenizerOptions
): Promise<TrainTokenizerResult> {
  const config = tokenizerConfig.parse(input);
  const t = config.train;
  const modelConfig = resolveModel(input);
  if (t.threads) setThreads(t.threads);
  const group = options.group ?? groupFromEnv(t.device);
  const run = openRun<TokenizerCheckpointState>('tokenizer', { ...options, group });
  const { index } = buildIndex(config.data.root, { split: config.data.split, stage: 'tokenizer', minFrames: t.window });
  group?.checkSame(trainingSettings({ ...config, model: modelConfig }), dataSignature(index.names, index.frames));
  const world = group?.worldSize ?? 1;
  const stats = readDatasetMeanStd(config.data.root);
  const model = new TokenizerModel(modelConfig, {
    seed: t.seed,
    device: group?.device(t.device) ?? t.device,
    optimizer: adamWSettings(t),
  });
  if (group) model.joinProcessGroup(group);
  if (t.window % model.downsampling !== 0) {
    throw new TorchmotionError(
      `train.window ${t.window} must be a multiple of the tokenizer's downsampling ${model.downsampling}`
    );
  }
  // A run saved before a model key existed (RVQ's layers, quantizerDropout) has that key's default.
  if (run.saved && !sameSettings(tokenizerModel.parse(run.saved.model), modelConfig)) {
    throw new TorchmotionError(
      `${run.checkpoint} was trained with a different model config; resume with the same config`
    );
  }
  // train.batch is the global batch; each rank draws it and reads its share (the loader state is the same on every
  // rank).
  if (t.batch % world !== 0)
    throw new TorchmotionError(
      `train.batch ${t.batch} must be a multiple of the ${world} ranks (it is the global batch)`
    );
  const loader = new WindowLoader(
    index,
    {
      batchSize: t.batch / world,
      window: t.window,
      seed: t.seed,
      stats,
      ...(group && { shard: { rank: group.rank, world } }),
    },
    run.saved?.loader
  );
  let position: LoaderState = run.saved?.loader ?? { epoch: 0, position: 0, rng: t.seed >>> 0 };
  let last: StepResult | undefined;
  const result = await run.train({
    model,
    config: { ...config, model: modelConfig },
    ...schedule(t),
    step: async (s) => {
      const lr = learningRate(s, t);
      const t0 = performance.now();
      // train.accumulate micro-batches of train.batch windows (each split over the ranks) make one update, as one
      // batch of batch × accumulate would: every micro-batch's loss weighs 1/accumulate.
      const sums: Record<string, number> = {};
      const clips: string[] = [];
      for (let k = 0; k < t.accumulate; k++) {
        const batch = await loader.next();
        clips.push(...Array.from(batch.clips, (c) => index.names[c]));
        last = await model.step(
          { data: batch.data, shape: batch.shape },
          {
            lr,
            clip: t.clip,
            velWeight: t.velWeight,
            commitBeta: t.commitBeta,
            autocast: t.autocast,
            lossScale: 1 / t.accumulate,
            update: k === t.accumulate - 1,
            ...(t.threads && { threads: t.threads }),
          }
        );
        position = batch.state;
        for (const [key, v] of Object.entries(losses(last))) {
          if (key !== 'gradNorm') sums[key] = (sums[key] ?? 0) + v / t.accumulate;
        }
      }
      const seconds = (performance.now() - t0) / 1000;
      const numbers: Record<string, number> = { ...sums, gradNorm: last!.gradNorm };
      const framesPerSecond = (t.batch * t.accumulate * t.window) / seconds;
      if (group) {
        // each rank's losses are of its share: their mean is the global batch's
        const keys = Object.keys(numbers);
        group.mean(keys.map((k) => numbers[k])).forEach((v, i) => {
          numbers[keys[i]] = v;
        });
      }
      return {
        metrics: { lr, ...numbers, seconds, framesPerSecond },
        progress: { loss: numbers.loss.toFixed(4), lr: lr.toExponential(2), 'frames/s': framesPerSecond.toFixed(0) },
        // The update's verdict covers every micro-batch of the step (the addon remembers a bad one until then).
        ...(last!.nonFinite && { nonFinite: { reason: last!.nonFinite, clips } }),
      };
    },
    evaluate: async () => {
      const ev = await evaluateTokenizer(model, config.data.root, {
        split: t.evalSplit,
        minFrames: 0,
        maxClips: t.evalClips,
        threads: t.threads,
      });
      return { mpjpeMm: ev.mpjpeMm, usagePercent: ev.usagePercent, perplexity: ev.perplexity, clips: ev.clips };
    },
    state: (step) => ({
      kind: 'tokenizer',
      step,
      model: modelConfig,
      config,
      loader: position,
      dataRoot: config.data.root,
    }),
  });
  return { ...result, last };
}

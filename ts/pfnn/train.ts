// trainPfnn: the PFNN's model, batch source and step on the shared run (ts/train/run.ts): rows of the training clips
// in a shuffled order per epoch (seeded, so a resumed run sees the same batches), dropout seeded per step, Adam at a
// constant rate as the original; every `train.evalEvery` steps the held-out clips' MSE (no dropout) goes into
// metrics.jsonl. Checkpoints record the sampler's place and the normalisation.
import type { z } from 'zod';

import { distEnv } from '../distributed/group.js';
import { TorchmotionError } from '../errors.js';
import { Rng } from '../rng.js';
import { setThreads } from '../runtime.js';
import { openRun, sameSettings, schedule, type RunOptions, type RunResult } from '../train/run.js';
import { adamWSettings } from '../model-base.js';
import { pfnnConfig } from './config.js';
import { readPfnnDatabase, splitByClip, type PfnnDatabase } from './database.js';
import { PfnnModel, type PfnnCheckpointState } from './model.js';

export type TrainPfnnOptions = RunOptions;

const stepSeed = (seed: number, step: number) => seed * 1000003 + step;

// A batch of the given rows of the database.
export function rowsBatch(db: PfnnDatabase, rows: ArrayLike<number>) {
  const B = rows.length;
  const x = new Float32Array(B * db.input);
  const y = new Float32Array(B * db.output);
  const phase = new Float32Array(B);
  for (let b = 0; b < B; b++) {
    const r = rows[b];
    x.set(db.x.subarray(r * db.input, (r + 1) * db.input), b * db.input);
    y.set(db.y.subarray(r * db.output, (r + 1) * db.output), b * db.output);
    phase[b] = db.phase[r];
  }
  return {
    x: { data: x, shape: [B, db.input] },
    y: { data: y, shape: [B, db.output] },
    phase: { data: phase, shape: [B] },
  };
}

// The training rows in the order of `epoch`: a Fisher–Yates shuffle seeded by the run's seed and the epoch.
function epochOrder(rows: Int32Array, seed: number, epoch: number): Int32Array {
  const order = Int32Array.from(rows);
  const rng = new Rng((seed ^ Math.imul(epoch + 1, 0x9e3779b1)) >>> 0);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

export async function trainPfnn(input: z.input<typeof pfnnConfig>, options: TrainPfnnOptions): Promise<RunResult> {
  const config = pfnnConfig.parse(input);
  const t = config.train;
  if (t.threads) setThreads(t.threads);
  if ((options.group?.worldSize ?? distEnv()?.worldSize ?? 1) > 1)
    throw new TorchmotionError('pfnn train runs in one process (it is small): run it without launch/torchrun');
  const run = openRun<PfnnCheckpointState>('pfnn', options);
  const db = readPfnnDatabase(config.data.root);
  const split = splitByClip(db, t.heldOut);
  const shape = { input: db.input, output: db.output, hidden: config.model.hidden, keep: config.model.keep };
  if (run.saved && !sameSettings(run.saved.shape, shape))
    throw new TorchmotionError(`${run.checkpoint} has a different network shape; resume with its config and database`);
  const model = new PfnnModel(shape, { seed: t.seed, device: t.device, optimizer: adamWSettings(t) });
  let place = run.saved?.order ?? { epoch: 0, position: 0 };
  let order = epochOrder(split.train, t.seed, place.epoch);
  const evalRows = split.heldOut.subarray(0, Math.min(t.evalRows, split.heldOut.length));
  return run.train({
    model,
    config,
    ...schedule(t),
    evalEvery: split.heldOut.length ? t.evalEvery : 0,
    step: async (s) => {
      const rows = new Int32Array(t.batch);
      for (let b = 0; b < t.batch; b++) {
        if (place.position === order.length) {
          place = { epoch: place.epoch + 1, position: 0 };
          order = epochOrder(split.train, t.seed, place.epoch);
        }
        rows[b] = order[place.position++];
      }
      const t0 = performance.now();
      const r = await model.step(rowsBatch(db, rows), {
        lr: t.lr,
        gamma: t.gamma,
        seed: stepSeed(t.seed, s),
        ...(t.threads && { threads: t.threads }),
      });
      const seconds = (performance.now() - t0) / 1000;
      return {
        metrics: {
          loss: r.loss,
          mse: r.mse,
          penalty: r.penalty,
          gradNorm: r.gradNorm,
          epoch: place.epoch,
          seconds,
          rowsPerSecond: t.batch / seconds,
        },
        progress: { loss: r.loss.toFixed(4), epoch: String(place.epoch), 'rows/s': (t.batch / seconds).toFixed(0) },
        ...(r.nonFinite && {
          nonFinite: {
            reason: r.nonFinite,
            clips: [...new Set(Array.from(rows, (row) => db.clips[db.clipOf[row]].name))],
          },
        }),
      };
    },
    evaluate: async () => {
      let sum = 0;
      for (let at = 0; at < evalRows.length; at += 1024) {
        const part = evalRows.subarray(at, Math.min(evalRows.length, at + 1024));
        sum += (await model.evaluate(rowsBatch(db, part), t.threads)).mse * part.length;
      }
      return { mse: sum / evalRows.length, rows: evalRows.length, clips: split.heldOutClips.length };
    },
    state: (step) => ({
      kind: 'pfnn',
      step,
      config,
      shape,
      order: place,
      dataRoot: config.data.root,
      heldOutClips: split.heldOutClips,
      stats: {
        Xmean: Array.from(db.stats.Xmean),
        Xstd: Array.from(db.stats.Xstd),
        Ymean: Array.from(db.stats.Ymean),
        Ystd: Array.from(db.stats.Ystd),
      },
    }),
  });
}

// A complete miniature of every training loop in torchmotion: a config checked by zod, batches made in
// TypeScript, one native step per batch, the next batch prepared while the step runs off the JS thread.
import { z } from 'zod';

import { withCallerStack } from './errors.js';
import { native, type NativeMlpRegressor } from './native.js';
import { Rng } from './rng.js';
import { checkDevice } from './runtime.js';
import { tensor, type HostTensor } from './tensor.js';

export const regressorConfig = z.object({
  hidden: z.number().int().positive().default(64),
  lr: z.number().positive().default(1e-2),
  steps: z.number().int().positive().default(400),
  batch: z.number().int().positive().default(256),
  seed: z.number().int().nonnegative().default(0),
  device: z.string().default('cpu'),
  threads: z.number().int().positive().optional(),
}).strict();

export type RegressorConfig = z.output<typeof regressorConfig>;

export interface RegressorResult {
  parameterCount: number;
  losses: number[];
  stepsPerSecond: number;
  // Mean squared error on a fixed held-out grid, before and after training.
  heldOutBefore: number;
  heldOutAfter: number;
}

// The target: a smooth 2-D surface the network must learn, y = sin(3·x0)·cos(2·x1).
const target = (x0: number, x1: number) => Math.sin(3 * x0) * Math.cos(2 * x1);

function randomBatch(rng: Rng, n: number): { x: HostTensor<Float32Array>; y: HostTensor<Float32Array> } {
  const x = new Float32Array(2 * n);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    x[2 * i] = rng.uniform(-1, 1);
    x[2 * i + 1] = rng.uniform(-1, 1);
    y[i] = target(x[2 * i], x[2 * i + 1]);
  }
  return { x: tensor(x, [n, 2], 'x'), y: tensor(y, [n, 1], 'y') };
}

async function heldOutError(model: NativeMlpRegressor, threads?: number): Promise<number> {
  const side = 32;
  const x = new Float32Array(2 * side * side);
  for (let i = 0; i < side; i++) {
    for (let j = 0; j < side; j++) {
      x[2 * (i * side + j)] = -1 + (2 * i) / (side - 1);
      x[2 * (i * side + j) + 1] = -1 + (2 * j) / (side - 1);
    }
  }
  const pred = await model.predict(tensor(x, [side * side, 2], 'x'), threads ? { threads } : {});
  let sum = 0;
  for (let k = 0; k < side * side; k++) sum += (pred.data[k] as number - target(x[2 * k], x[2 * k + 1])) ** 2;
  return sum / (side * side);
}

export async function trainRegressor(
  input: z.input<typeof regressorConfig>,
  onStep?: (step: number, loss: number) => void,
): Promise<RegressorResult> {
  const config = regressorConfig.parse(input);
  const model = new (native().MlpRegressor)({
    inputs: 2, hidden: config.hidden, outputs: 1, lr: config.lr, seed: config.seed, device: checkDevice(config.device),
  });
  const opts = config.threads ? { threads: config.threads } : {};
  const rng = new Rng(config.seed);
  const heldOutBefore = await heldOutError(model, config.threads);
  const losses: number[] = [];
  const start = performance.now();
  let batch = randomBatch(rng, config.batch);
  for (let step = 0; step < config.steps; step++) {
    const pending = withCallerStack(() => model.step(batch.x, batch.y, opts));
    const next = randomBatch(rng, config.batch); // made while the native step runs on another thread
    const loss = await pending;
    losses.push(loss);
    onStep?.(step, loss);
    batch = next;
  }
  const seconds = (performance.now() - start) / 1000;
  return {
    parameterCount: model.parameterCount,
    losses,
    stepsPerSecond: config.steps / seconds,
    heldOutBefore,
    heldOutAfter: await heldOutError(model, config.threads),
  };
}

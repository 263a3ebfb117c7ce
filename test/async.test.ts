import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { native } from '../ts/native.js';
import { measureThroughput } from '../ts/runtime.js';
import { device, errorOf } from './helpers.js';

test('the event loop keeps running during a native call of more than a second', async () => {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 50);
  const start = performance.now();
  const result = await measureThroughput({ op: 'matmul', size: 256, seconds: 1.2, threads: 1, device });
  const elapsed = performance.now() - start;
  clearInterval(timer);
  assert.ok(elapsed >= 1000, `the native call took ${elapsed} ms`);
  assert.ok(ticks >= 5, `the interval fired ${ticks} times`);
  assert.ok(result.iterations > 1 && result.gflops > 0);
});

test('a second call on the same model while one is in flight is refused, then allowed', async () => {
  const model = new (native().MlpRegressor)({ inputs: 2, hidden: 512, outputs: 1, lr: 0.01, seed: 0, device });
  const x = { data: new Float32Array(2 * 4096).fill(0.5), shape: [4096, 2] };
  const y = { data: new Float32Array(4096), shape: [4096, 1] };
  const first = model.step(x, y);
  assert.is(await errorOf(() => model.step(x, y)),
    'MlpRegressor.step: another call is still running on this model; await it first (one call in flight per model)');
  assert.is(await errorOf(() => model.predict(x)),
    'MlpRegressor.predict: another call is still running on this model; await it first (one call in flight per model)');
  const loss = await first;
  assert.ok(Number.isFinite(loss));
  assert.ok(Number.isFinite(await model.step(x, y)), 'the model is usable again once the first step settled');
});

test('two models step concurrently without interfering', async () => {
  const make = () => new (native().MlpRegressor)({ inputs: 2, hidden: 16, outputs: 1, lr: 0.05, seed: 3, device });
  const [a, b] = [make(), make()];
  const x = { data: new Float32Array([0.1, 0.2, -0.3, 0.4]), shape: [2, 2] };
  const y = { data: new Float32Array([1, -1]), shape: [2, 1] };
  const [la, lb] = await Promise.all([a.step(x, y, { threads: 1 }), b.step(x, y, { threads: 1 })]);
  assert.is(la, lb, 'same seed and input give the same loss');
});

test('a rejected native promise carries the caller stack, not an empty native one', async () => {
  const err = await measureThroughput({ op: 'matmul', size: 4, seconds: 0, device: 'cuda:7' }).then(() => null, (e: Error) => e);
  if (device.startsWith('cuda')) return;
  assert.ok(err instanceof Error);
  assert.match(err!.stack ?? '', /async\.test\.ts/);
});

test.run();

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { native } from '../ts/native.js';
import { measureThroughput } from '../ts/runtime.js';
import { tokenizerTraining } from '../ts/tokenizer/config.js';
import { device, errorOf, motionBatch, tinyTokenizerOptions } from './helpers.js';

// A tokenizer step's options with the training schema's defaults.
const stepOptions = () => {
  const { lr, clip, velWeight, commitBeta, autocast } = tokenizerTraining.parse({});
  return { lr, clip, velWeight, commitBeta, autocast, lossScale: 1, update: true };
};

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
  const model = new (native().Tokenizer)(await tinyTokenizerOptions());
  const x = motionBatch(8, 64);
  const o = { ...stepOptions(), threads: 1 };
  const first = model.step(x, o);
  assert.is(
    await errorOf(() => model.step(x, o)),
    'Tokenizer.step: another call is still running on this model; await it first (one call in flight per model)'
  );
  assert.is(
    await errorOf(() => model.reconstruct(x)),
    'Tokenizer.reconstruct: another call is still running on this model; await it first (one call in flight per model)'
  );
  const r = await first;
  assert.ok(Number.isFinite(r.loss));
  assert.ok(Number.isFinite((await model.step(x, o)).loss), 'the model is usable again once the first step settled');
});

test('two models step concurrently without interfering', async () => {
  const [a, b] = [
    new (native().Tokenizer)(await tinyTokenizerOptions(3)),
    new (native().Tokenizer)(await tinyTokenizerOptions(3)),
  ];
  const x = motionBatch(2, 16);
  const o = { ...stepOptions(), threads: 1 };
  const [ra, rb] = await Promise.all([a.step(x, o), b.step(x, o)]);
  assert.ok(ra.loss > 0);
  assert.is(ra.loss, rb.loss, 'same seed and input give the same loss');
});

test('a rejected native promise carries the caller stack, not an empty native one', async () => {
  const err = await measureThroughput({ op: 'matmul', size: 4, seconds: 0, device: 'cuda:7' }).then(
    () => null,
    (e: Error) => e
  );
  if (device.startsWith('cuda')) return;
  assert.ok(err instanceof Error);
  assert.match(err!.stack ?? '', /async\.test\.ts/);
});

test.run();

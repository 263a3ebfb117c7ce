// The seam a data-parallel all-reduce hooks into: the flat gradients between backward and the update.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { ADDON_EXPORTS, native } from '../ts/native.js';
import { nativeOptions, t2mModel } from '../ts/t2m/config.js';
import { motionBatch, t2mOfShape, tinyStepOptions, tinyTokenizerOptions } from './helpers.js';

test('the addon exports exactly what ts/native.ts declares', () => {
  assert.equal(Object.keys(native()).sort(), [...ADDON_EXPORTS].sort());
});

test(`the hook sees the whole flat gradient before the update: AdamW's first step \
follows from it exactly`, async () => {
  const opts = { ...(await tinyTokenizerOptions()), lr: 1e-3, weightDecay: 0 };
  const model = new (native().Tokenizer)(opts);
  const table = model.parameterTable();
  const before = model.stateDict();
  const r = await model.step(motionBatch(2, 16), { ...tinyStepOptions, inspectGradients: true });
  assert.ok(r.gradients, 'the step returned the gradients it saw');
  assert.is(r.gradients!.length, 1, 'one fp32 buffer');
  const g = r.gradients![0].data as Float32Array;
  assert.is(
    g.length,
    table.filter((p) => p.trainable).reduce((s, p) => s + p.count, 0),
    'every trainable parameter, once'
  );
  const after = model.stateDict();
  let offset = 0;
  let nonzero = 0;
  let worst = 0;
  for (const p of table.filter((row) => row.trainable)) {
    const p0 = before[p.name].data as Float32Array;
    const p1 = after[p.name].data as Float32Array;
    for (let i = 0; i < p.count; i++) {
      const gi = g[offset + i];
      if (gi !== 0) nonzero++;
      // Step 1 with bias correction: m̂ = g, v̂ = g², so p1 = p0 − lr · g / (|g| + eps).
      const expected = p0[i] - (opts.lr * gi) / (Math.abs(gi) + opts.eps);
      worst = Math.max(worst, Math.abs(p1[i] - expected) / (opts.lr * 1e-5 + Math.abs(p0[i]) * 2.4e-7));
    }
    offset += p.count;
  }
  assert.ok(nonzero > 0.5 * g.length, `${nonzero} of ${g.length} gradients are non-zero`);
  assert.ok(
    worst <= 1,
    `the update departs from the one the seen gradient implies by ${worst.toFixed(2)}× the rounding bound`
  );
});

test('the hook runs before clipping: the gradient it sees has the norm the step reports', async () => {
  const model = new (native().Tokenizer)(await tinyTokenizerOptions());
  const r = await model.step(motionBatch(2, 16), { ...tinyStepOptions, clip: 1e-3, inspectGradients: true });
  const g = r.gradients![0].data as Float32Array;
  const norm = Math.sqrt(g.reduce((s, x) => s + x * x, 0));
  assert.ok(r.gradNorm > 1e-3, `norm ${r.gradNorm} is above the clip, so clipping changed the gradient`);
  assert.ok(Math.abs(norm - r.gradNorm) / r.gradNorm < 1e-5, `hook saw norm ${norm}, step reports ${r.gradNorm}`);
  const plain = await model.step(motionBatch(2, 16), tinyStepOptions);
  assert.is(plain.gradients, undefined, 'no copies without inspectGradients');
});

test('text-to-motion: the hook runs once per update, after the last accumulated micro-batch', async () => {
  const shape = nativeOptions(t2mModel.parse({ preset: 'tiny' }), 10, 20);
  const model = await t2mOfShape(shape);
  const batch = {
    text: { data: Int32Array.from([0, 1, 5, 6, 2, 3, 4, 7]), shape: [2, 4] },
    textLengths: { data: Int32Array.from([3, 4]), shape: [2] },
    codes: { data: Int32Array.from([1, 2, 3, 10, 4, 5, 10, 11]), shape: [2, 4] },
  };
  const o = {
    lr: 1e-3,
    clip: 1e-3,
    lossScale: 0.5,
    autocast: 'none' as const,
    recompute: false,
    threads: 1,
    inspectGradients: true,
  };
  const first = await model.step(batch, { ...o, update: false });
  assert.is(first.gradients, undefined, 'no hook call on a micro-batch that only accumulates');
  const second = await model.step(batch, { ...o, update: true });
  assert.ok(second.gradients, 'the hook ran on the update');
  const g = second.gradients![0].data as Float32Array;
  const norm = Math.sqrt(g.reduce((s, x) => s + x * x, 0));
  assert.ok(
    Math.abs(norm - second.gradNorm) / second.gradNorm < 1e-5,
    `hook saw norm ${norm}, step reports ${second.gradNorm}`
  );
});

test.run();

// Golden test against an independent PyTorch implementation (scripts/reference/tokenizer.py): same weights and
// input give the same reconstruction and FSQ codes, and one AdamW step gives the same parameters; so does a second
// step, the first whose update reads the moments carried over (m·β1, v·β2).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { readNpz, writeNpz } from '../ts/data/npz.js';
import { tokenizerModel } from '../ts/tokenizer/config.js';
import { TokenizerModel } from '../ts/tokenizer/model.js';
import { device, maxRelErr, relL2, tempDir } from './helpers.js';
import { runPython } from './python.js';

// The forward pass is compared element by element (max-abs, relative to the largest value). The parameters after the
// Adam step are compared in L2 (relL2): max-abs is the wrong yardstick there, since Adam divides each gradient by its
// own magnitude, so a handful of weights whose gradients are ~1e-9 move by ±lr on ulp-level differences in backward.

test('FSQ tokenizer: forward, codes and two AdamW steps match PyTorch', async () => {
  const dir = tempDir('tm-golden-tok-');
  const config = tokenizerModel.parse({ width: 64, depth: 3, levels: [8, 5, 5, 5] });
  const lr = 1e-3;
  const model = new TokenizerModel(config, {
    seed: 3,
    device,
    optimizer: { lr, beta1: 0.9, beta2: 0.99, weightDecay: 0, eps: 1e-8 },
  });
  const weights = model.stateDict();
  writeNpz(
    join(dir, 'weights.npz'),
    Object.fromEntries(Object.entries(weights).map(([k, t]) => [k, { data: t.data as Float32Array, shape: t.shape }]))
  );
  const B = 2;
  // 74 frames → 37 latent steps: the channel-norm kernel runs its 16-wide blocks and its scalar tail.
  const T = 74;
  const motion = new Float32Array(B * T * 272).map((_, i) => Math.sin(i * 0.37) * 1.5 + Math.cos(i * 0.011));
  writeNpz(join(dir, 'input.npz'), { motion: { data: motion, shape: [B, T, 272] } });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model: config, lr, velWeight: 0.5 }));

  const { reconstruction, codes } = await model.reconstruct({ data: motion, shape: [B, T, 272] });
  const step = await model.step(
    { data: motion, shape: [B, T, 272] },
    { lr, velWeight: 0.5, clip: 0, commitBeta: 0.02, threads: 1 }
  );
  const after = model.stateDict();
  const step2 = await model.step(
    { data: motion, shape: [B, T, 272] },
    { lr, velWeight: 0.5, clip: 0, commitBeta: 0.02, threads: 1 }
  );
  const second = model.stateDict();
  runPython([join(import.meta.dirname, '..', 'scripts', 'reference', 'tokenizer.py'), 'golden', dir]);
  const ref = readNpz(join(dir, 'reference.npz'));

  assert.ok(
    maxRelErr(reconstruction.data as Float32Array, ref.reconstruction.data as Float32Array) < 1e-5,
    'reconstruction (max-abs relative)'
  );
  assert.equal(Array.from(codes.data as Int32Array), Array.from(ref.codes.data as Int32Array), 'FSQ codes are equal');
  assert.ok(
    Math.abs(step.loss - (ref.loss.data[0] as number)) / (ref.loss.data[0] as number) < 1e-5,
    `loss ${step.loss} vs ${ref.loss.data[0]}`
  );
  let elements = 0;
  let close = 0;
  for (const [name, t] of Object.entries(after)) {
    const r = ref[`after.${name}`];
    assert.ok(r, `reference has ${name}`);
    const e = relL2(t.data as Float32Array, r.data as Float32Array);
    assert.ok(e < 1e-5, `${name}: relative error ${e} after one AdamW step`);
    for (let i = 0; i < t.data.length; i++) {
      elements++;
      if (Math.abs((t.data[i] as number) - (r.data[i] as number)) <= 1e-7) close++;
    }
  }
  assert.ok(close / elements > 0.999, `${elements - close} of ${elements} weights differ by more than 1e-7`);
  // The step really moved the weights, so agreement is not trivial.
  assert.ok(
    maxRelErr(
      after['encoder.model.0.weight'].data as Float32Array,
      weights['encoder.model.0.weight'].data as Float32Array
    ) > 1e-4
  );

  assert.ok(
    Math.abs(step2.loss - (ref.loss2.data[0] as number)) / (ref.loss2.data[0] as number) < 1e-5,
    `second loss ${step2.loss} vs ${ref.loss2.data[0]}`
  );
  for (const [name, t] of Object.entries(second)) {
    const e = relL2(t.data as Float32Array, ref[`second.${name}`].data as Float32Array);
    assert.ok(e < 1e-5, `${name}: relative error ${e} after two AdamW steps`);
  }
  assert.ok(
    maxRelErr(
      second['encoder.model.0.weight'].data as Float32Array,
      after['encoder.model.0.weight'].data as Float32Array
    ) > 1e-4
  );
});

test.run();

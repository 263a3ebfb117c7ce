// Golden test of the residual blocks' fused CPU kernel (native/kernels/channel_norm.cc): LayerNorm over the channels of
// a (B, C, T) activation, then ReLU, forward and backward, against PyTorch's own LayerNorm and ReLU
// (scripts/reference/tokenizer.py channelnorm). The tokenizer golden test cannot see gradient magnitudes: its one
// AdamW step moves every weight by ±lr whatever the gradient's size.

import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { readNpz, writeNpz } from '../ts/data/npz.js';
import { Rng } from '../ts/rng.js';
import { channelNormRelu } from '../ts/runtime.js';
import { errorOf, relL2, tempDir } from './helpers.js';
import { runPython } from './python.js';

// T = 37 runs the kernel's 16-wide blocks and its scalar tail; C = 512, T = 48 is the MotionMillion shape.
for (const [B, C, T, threads] of [
  [3, 40, 37, 1],
  [4, 512, 48, 2],
] as const) {
  test(`LayerNorm over channels + ReLU, forward and backward, match PyTorch (${B}×${C}×${T}, \
${threads} thread(s))`, async () => {
    const rng = new Rng(B * 1000 + T);
    const fill = (n: number, lo: number, hi: number) => new Float32Array(n).map(() => rng.uniform(lo, hi));
    const x = { data: fill(B * C * T, -3, 3), shape: [B, C, T] };
    const weight = { data: fill(C, 0.5, 1.5), shape: [C] };
    const bias = { data: fill(C, -0.5, 0.5), shape: [C] }; // shifts the ReLU's cut, so the mask is not x's sign
    const grad = { data: fill(B * C * T, -1, 1), shape: [B, C, T] };
    const dir = tempDir('tm-cn-');
    writeNpz(join(dir, 'cn-input.npz'), { x, weight, bias, grad });
    runPython([join(import.meta.dirname, '..', 'scripts', 'reference', 'tokenizer.py'), 'channelnorm', dir]);
    const ref = readNpz(join(dir, 'cn-reference.npz'));
    const ours = await channelNormRelu(x, weight, bias, grad, { threads });
    for (const k of ['y', 'dx', 'dweight', 'dbias'] as const) {
      assert.equal(ours[k].shape, ref[k].shape, `${k} shape`);
      const e = relL2(ours[k].data as Float32Array, ref[k].data as Float32Array);
      assert.ok(e < 1e-5, `${k}: relative error ${e}`);
    }
    const zeros = (ours.y.data as Float32Array).filter((v) => v === 0).length;
    assert.ok(zeros > 0.2 * B * C * T && zeros < 0.8 * B * C * T, `the ReLU cuts part of the output (${zeros} zeros)`);
  });
}

test('channelNormRelu names mismatched shapes', async () => {
  const t = (shape: number[]) => ({ data: new Float32Array(shape.reduce((a, b) => a * b, 1)), shape });
  const message = await errorOf(() => channelNormRelu(t([2, 4, 5]), t([3]), t([3]), t([2, 4, 5])));
  assert.equal(message, 'channelNormRelu: expected x (B, C, T), weight (C), bias (C) and grad (B, C, T)');
});

test.run();

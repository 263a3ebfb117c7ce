// Golden test of the tokenizer's own CPU convolution (native/kernels/conv1d_kernels.inc, AVX-512 or AVX2): forward, dx,
// dweight and dbias against PyTorch's F.conv1d (scripts/reference/tokenizer.py conv1d). The shapes run every edge of
// the kernels: output channels that fill no whole tile (AVX-512: 8 and 12 rows, AVX2: 4 and 6), input channels that
// fill no 32- or 16-wide tile, lengths that fill no 48- or 24-step tile, taps 1 and 3 (the unrolled kernels) and 4 (the
// generic one), padding below dilation·(K − 1)/2 (the output is shorter than the input), strides 2 and 3 (stride-1
// convolutions over the input's phases; odd lengths leave phases of unequal length, K < 2·stride leaves a phase with
// fewer taps), two threads, the MotionMillion shapes (the k4 s2 down-sampling included), inputs that need no gradient
// (a network's first layer: the bias gradient is then summed by the weight gradient's pass), and the decoder's Upsample
// + Conv done as one convolution of the input repeated along time (factors 2 and 3, odd lengths).
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { readNpz, writeNpz } from '../ts/data/npz.js';
import { Rng } from '../ts/rng.js';
import { conv1d, info } from '../ts/runtime.js';
import { errorOf, relL2, tempDir } from './helpers.js';
import { runPython } from './python.js';

// Where the kernels must apply: an x86 CPU with AVX2 + FMA (AVX-512 when it has it, AVX2 with TORCHMOTION_NO_AVX512
// set: test/conv1d-avx2.test.ts runs this file that way) and no opt-out. Elsewhere the layers use LibTorch's
// convolution, which this test then holds to the same numbers.
const kernel = info().convKernel;

const cases = [
  // [B, Cin, Cout, T, K, stride, padding, dilation, threads, input needs a gradient, upsample]
  [3, 40, 19, 37, 3, 1, 2, 2, 1, true, 1],
  [2, 33, 13, 50, 1, 1, 0, 1, 1, true, 1],
  [2, 20, 9, 29, 4, 1, 1, 1, 1, true, 1],
  [2, 24, 17, 41, 4, 2, 1, 1, 1, true, 1],
  [2, 16, 11, 40, 5, 3, 2, 1, 2, true, 1],
  [3, 10, 7, 33, 3, 2, 0, 1, 1, true, 1],
  [4, 512, 512, 48, 3, 1, 9, 9, 2, true, 1],
  [3, 272, 512, 96, 3, 1, 1, 1, 2, true, 1],
  [2, 512, 272, 96, 3, 1, 1, 1, 1, true, 1],
  [2, 512, 512, 96, 4, 2, 1, 1, 2, true, 1],
  [3, 272, 512, 96, 3, 1, 1, 1, 2, false, 1],
  [2, 24, 17, 41, 4, 2, 1, 1, 1, false, 1],
  [3, 512, 512, 48, 3, 1, 1, 1, 2, true, 2],
  [2, 21, 13, 23, 3, 1, 1, 1, 1, true, 2],
  [2, 17, 9, 19, 4, 1, 2, 1, 2, true, 3],
  [2, 21, 13, 23, 3, 1, 1, 1, 1, false, 2],
] as const;

for (const [B, Cin, Cout, T, K, stride, padding, dilation, threads, inputGrad, upsample] of cases) {
  const name =
    `${B}×${Cin}×${T} → ${Cout}, k${K} stride ${stride} pad ${padding} dil ${dilation}, ${threads} thread(s)` +
    (inputGrad ? '' : ', no input gradient') +
    (upsample > 1 ? `, upsampled ×${upsample}` : '');
  test(`conv1d forward and backward match PyTorch (${name})`, async () => {
    const rng = new Rng(Cin * 100 + T);
    const fill = (n: number, scale: number) => new Float32Array(n).map(() => rng.uniform(-scale, scale));
    const Tout = Math.floor((upsample * T + 2 * padding - dilation * (K - 1) - 1) / stride) + 1;
    const x = { data: fill(B * Cin * T, 2), shape: [B, Cin, T] };
    const weight = { data: fill(Cout * Cin * K, 1 / Math.sqrt(Cin * K)), shape: [Cout, Cin, K] };
    const bias = { data: fill(Cout, 0.5), shape: [Cout] };
    const grad = { data: fill(B * Cout * Tout, 1), shape: [B, Cout, Tout] };
    const dir = tempDir('tm-conv-');
    const scalar = (v: number) => ({ data: new Int32Array([v]), shape: [] });
    writeNpz(join(dir, 'conv-input.npz'), {
      x,
      weight,
      bias,
      grad,
      stride: scalar(stride),
      padding: scalar(padding),
      dilation: scalar(dilation),
      upsample: scalar(upsample),
    });
    runPython([join(import.meta.dirname, '..', 'scripts', 'reference', 'tokenizer.py'), 'conv1d', dir]);
    const ref = readNpz(join(dir, 'conv-reference.npz'));
    const ours = await conv1d(x, weight, bias, grad, { stride, padding, dilation, upsample, threads, inputGrad });
    assert.equal(ours.kernel, kernel === 'none' ? 'libtorch' : 'torchmotion');
    assert.equal(ours.dx === undefined, !inputGrad, 'dx returned exactly when the input needs a gradient');
    for (const k of inputGrad ? (['y', 'dx', 'dweight', 'dbias'] as const) : (['y', 'dweight', 'dbias'] as const)) {
      const mine = ours[k]!;
      assert.equal(mine.shape, ref[k].shape, `${k} shape`);
      const e = relL2(mine.data as Float32Array, ref[k].data as Float32Array);
      assert.ok(e < 1e-5, `${k}: relative error ${e}`);
    }
  });
}

test('conv1d names mismatched shapes', async () => {
  const t = (shape: number[]) => ({ data: new Float32Array(shape.reduce((a, b) => a * b, 1)), shape });
  const message = await errorOf(() => conv1d(t([2, 4, 5]), t([3, 4, 3]), t([3]), t([2, 3, 5])));
  assert.equal(
    message,
    'conv1d: expected x (B, Cin, T), weight (Cout, Cin, K), bias (Cout) and grad (B, Cout, ' +
      '(upsample·T + 2·padding − dilation·(K − 1) − 1) / stride + 1)'
  );
});

test.run();

// The tokenizer's golden test again with torchmotion's convolution kernels switched off, so that the path CUDA and CPUs
// without AVX2 take (LibTorch's conv1d, after torch's nearest upsampling, plus the residual) is checked against
// PyTorch on this machine too. The variable must be set before the addon's first call.
import * as assert from 'uvu/assert';

process.env.TORCHMOTION_NO_CONV_KERNEL = '1';
const { conv1d } = await import('../ts/runtime.js');
const one = (shape: number[]) => ({ data: new Float32Array(shape.reduce((a, b) => a * b)).fill(1), shape });
const probe = await conv1d(one([1, 2, 4]), one([3, 2, 1]), one([3]), one([1, 3, 4]));
assert.is(probe.kernel, 'libtorch', "TORCHMOTION_NO_CONV_KERNEL must route the tokenizer's convolutions to LibTorch");
await import('./tokenizer-golden.test.ts');

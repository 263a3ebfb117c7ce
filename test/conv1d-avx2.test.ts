// The convolution's golden test again with the AVX2 kernels (native/kernels/conv1d_avx2.cc) forced, so both instruction
// sets are checked against PyTorch on every machine with AVX2 (AVX-512 ones included; test/tokenizer-avx2.test.ts does
// the same for the tokenizer's training steps). The variable
// must be set before the addon's first call.
import { readFileSync } from 'node:fs';

import * as assert from 'uvu/assert';

process.env.TORCHMOTION_NO_AVX512 = '1';
const { info } = await import('../ts/runtime.js');
const avx2 =
  /\bavx2\b/.test(readFileSync('/proc/cpuinfo', 'utf8')) && /\bfma\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));
assert.is(
  info().convKernel,
  avx2 ? 'avx2' : 'none',
  'TORCHMOTION_NO_AVX512 must select the AVX2 convolution kernels on an AVX2 CPU'
);
await import('./conv1d.test.ts');

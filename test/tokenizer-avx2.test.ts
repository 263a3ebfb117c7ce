// The tokenizer's golden test (two AdamW steps against PyTorch) again with the AVX2 convolution kernels
// (native/kernels/conv1d_avx2.cc) forced, so both instruction sets train the tokenizer as PyTorch does on every AVX2
// machine. The variable must be set before the addon's first call.
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
await import('./tokenizer-golden.test.ts');

// The golden and KV-cache tests again with the AVX2 kernels forced (packed_linear.cc picks AVX-512 when the CPU has
// it), so both code paths are checked on this machine. The variable must be set before the addon's first call.
import * as assert from 'uvu/assert';

process.env.TORCHMOTION_NO_AVX512 = '1';
const { info } = await import('../ts/runtime.js');
assert.is.not(
  info().packedKernel,
  'avx512',
  'TORCHMOTION_NO_AVX512 must select the AVX2 kernel (or none without AVX2)'
);
await import('./t2m-golden.test.ts');

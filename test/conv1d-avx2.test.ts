// The convolution's golden test again with the AVX2 kernels (native/kernels/conv1d_avx2.cc) forced, so both instruction
// sets are checked against PyTorch on every machine with AVX2 (AVX-512 ones included; test/tokenizer-avx2.test.ts does
// the same for the tokenizer's training steps). The variable
// must be set before the addon's first call.
import { withAvx2Kernels } from './helpers.js';

await withAvx2Kernels(() => import('./conv1d.test.ts'));

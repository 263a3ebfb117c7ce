// The tokenizer's golden test (two AdamW steps against PyTorch) again with the AVX2 convolution kernels
// (native/kernels/conv1d_avx2.cc) forced, so both instruction sets train the tokenizer as PyTorch does on every AVX2
// machine. The variable must be set before the addon's first call.
import { withAvx2Kernels } from './helpers.js';

await withAvx2Kernels(() => import('./tokenizer-golden.test.ts'));

// The golden and KV-cache tests again with the AVX2 kernels forced (packed_linear.cc picks AVX-512 when the CPU has
// it), so both code paths are checked on this machine. The variable must be set before the addon's first call.
process.env.TORCHMOTION_NO_AVX512 = '1';
await import('./t2m-golden.test.ts');

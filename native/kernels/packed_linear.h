// x · Wᵀ for a handful of rows: cached generation computes one position per prompt per step, so every projection
// has 1–16 rows. OpenBLAS repacks the whole weight matrix on every such call (a profile of 8-prompt generation spent
// 48 % of its time in sgemm_incopy). Here the weights are packed once into column panels, [N/w][K][w], and
// reused until they change; an AVX2/FMA (16-column panels) or AVX-512 (32) kernel streams each panel once for all rows.
#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace torchmotion {

constexpr int64_t kPackedMaxRows = 16;

// The packed copy of one weight matrix, rebuilt when the weight's storage or version counter changes (an optimiser
// step bumps the version), so generation after training in the same process sees the trained weights.
struct PackedWeight {
  torch::Tensor panels;  // (ceil(N/w), K, w) float32, zero-padded columns; w = 16 (AVX2) or 32 (AVX-512)
  const void* source = nullptr;
  int64_t version = -1;
};

// The kernel this process uses: "avx512", "avx2" (also when TORCHMOTION_NO_AVX512 is set) or "none" (LibTorch's GEMM).
const char* PackedKernel();

// out (R, N) = x (R, K) · w (N, K)ᵀ. Returns an undefined tensor when the kernel does not apply (not CPU float32
// contiguous, R > kPackedMaxRows, or a CPU without AVX2/FMA), and the caller uses the ordinary path.
torch::Tensor PackedMatmul(const torch::Tensor& x, const torch::Tensor& w, PackedWeight& cache);

}  // namespace torchmotion

// Attention for one new position per sequence against the KV cache (every step of cached generation). The generic
// path runs two batched GEMMs whose OpenBLAS calls repack the cache per (batch, head) and a masked softmax over
// (B, H, 1, S) temporaries; this kernel reads each cached key and value once.
#pragma once

#include <torch/torch.h>

namespace torchmotion {

// q (B, H, 1, hd); k, v (B, H, S, hd) with contiguous rows; allowed (B, 1, 1, S) bool. Returns (B, H, 1, hd), or an
// undefined tensor when the kernel does not apply (not CPU float32, other shapes, or no AVX2/FMA).
torch::Tensor DecodeAttention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                              const torch::Tensor& allowed);

}  // namespace torchmotion

// Stride-1 Conv1d on the CPU, forward and backward, with AVX-512 register-tiled kernels. LibTorch 1.13's oneDNN
// convolutions reached 85–89 % of their own best layer inside a tokenizer step (docs/benchmarks.md); these kernels
// keep a register tile of the output in 24 of the 32 vector registers and stream the weights as broadcasts, which
// runs the tokenizer's shapes (512 channels, 48 or 96 steps, dilation 1–9) near the machine's FMA peak.
// Every convolution of the tokenizer except the stride-2 down-sampling goes through here on such CPUs (that one, as
// a stride-1 convolution over its two phases of 49 steps, ran no faster than oneDNN and raised peak RSS 25–30 MB).
#pragma once

#include "compat.h"

namespace torchmotion {

// Whether Conv1dCpu applies: x (B, Cin, T) and w (Cout, Cin, K) float32 on the CPU, stride 1, one group,
// 0 ≤ padding ≤ dilation·(K − 1), and a CPU with AVX-512 (unless TORCHMOTION_NO_AVX512 is set). Otherwise the
// caller uses LibTorch's convolution.
bool Conv1dCpuApplies(const torch::Tensor& x, const torch::Tensor& w, int64_t stride, int64_t padding, int64_t dilation, int64_t groups);

// conv1d(x, w, b, stride 1, padding, dilation) with its backward; b may be undefined (no bias).
torch::Tensor Conv1dCpu(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b, int64_t padding, int64_t dilation);

}  // namespace torchmotion

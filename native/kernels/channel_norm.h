// LayerNorm over the channels of a (B, C, T) activation followed by ReLU, in one CPU kernel with its own backward.
// The reference (and nn::LayerNorm) normalises the last dimension, so each residual block transposes to (B, T, C)
// and back: LayerNorm copies its input contiguous, the convolution copies its transposed input back to (B, C, T),
// both backwards copy again, and ReLU's backward is a separate pass. On the CPU that was ~15 % of a MotionMillion
// tokenizer step (profile in docs/benchmarks.md). Here the statistics are taken across channels in place, the
// output is (B, C, T) contiguous for the convolution, and the ReLU mask is applied inside the norm's backward.
#pragma once

#include "compat.h"

namespace torchmotion {

// relu(layer_norm over dim 1 of x, weight, bias, eps); x (B, C, T) float32 on the CPU.
torch::Tensor ChannelLayerNormRelu(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                                   double eps);

// Whether ChannelLayerNormRelu applies: CPU float32 (CUDA keeps the library's kernels).
bool ChannelLayerNormReluApplies(const torch::Tensor& x);

}  // namespace torchmotion

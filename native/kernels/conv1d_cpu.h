// Conv1d on the CPU, forward and backward, with register-tiled kernels for AVX-512 (native/conv1d_avx512.cc) and AVX2
// + FMA (native/conv1d_avx2.cc), one source (native/conv1d_kernels.inc) over two vector widths, chosen at run time.
// They keep a register tile of the output in the vector registers and stream the weights as broadcasts; every
// convolution of the tokenizer goes through here on such CPUs, the stride-2 down-sampling as a stride-1 convolution
// over the two phases of its input. Measured against LibTorch's oneDNN in docs/benchmarks.md.
#pragma once

#include "compat.h"

namespace torchmotion {

// Which kernels this process uses: "avx512", "avx2" (also on AVX-512 CPUs when TORCHMOTION_NO_AVX512 is set) or
// "none" (no AVX2, or TORCHMOTION_NO_CONV_KERNEL set: LibTorch's convolutions).
std::string ConvKernel();

// Whether Conv1dCpu applies: x (B, Cin, T) and w (Cout, Cin, K) float32 on the CPU, one group, a kernel for this CPU
// (ConvKernel() is not "none"), and either stride 1 with 0 ≤ padding ≤ dilation·(K − 1) or a larger
// stride without dilation or upsampling (and padding < K, as in the tokenizer). Otherwise the caller uses LibTorch's
// convolution.
bool Conv1dCpuApplies(const torch::Tensor& x, const torch::Tensor& w, int64_t stride, int64_t padding, int64_t dilation,
                      int64_t groups, int64_t upsample = 1);

// conv1d(x upsampled, w, b, stride, padding, dilation) with its backward; b may be undefined (no bias). `upsample` > 1
// convolves x repeated that many times along time (nearest-neighbour upsampling, torch::nn::Upsample's "nearest"),
// without making the upsampled tensor: the decoder's Upsample + Conv in one step. A defined `residual` (the output's
// shape, float32 on the CPU) is added to the output as it is made: a residual block's last convolution and its
// `+ x` in one step.
torch::Tensor Conv1dCpu(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b, int64_t stride,
                        int64_t padding, int64_t dilation, int64_t upsample = 1, const torch::Tensor& residual = {});

// The model's convolutions: Conv1dCpu where it applies, LibTorch's conv1d anywhere else (CUDA, other dtypes, CPUs
// without AVX2; with `upsample`, after torch's nearest-neighbour interpolation; with `residual`, plus it).
torch::Tensor Conv1dLayer(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b, int64_t stride,
                          int64_t padding, int64_t dilation, int64_t upsample = 1, const torch::Tensor& residual = {});

}  // namespace torchmotion

// The CPU convolution's instruction-set variants (native/conv1d_kernels.inc compiled twice): AVX-512 and AVX2 + FMA.
// native/conv1d_cpu.cc chooses one at run time; nothing else includes this header.
#pragma once

#include "compat.h"

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define TM_CONV_X86 1
#endif

namespace torchmotion {

// A residual is added element by element to the convolution's output (every path), so it must have its shape: a
// wrong one would be read past its end by the kernel, or broadcast silently by LibTorch.
inline void CheckResidual(const torch::Tensor& residual, const torch::Tensor& y) {
  TORCH_CHECK(!residual.defined() || residual.sizes() == y.sizes(), "conv1d: the residual has shape ", residual.sizes(),
              ", the convolution's output ", y.sizes(), "; a residual is added to the output and must match it");
}

#ifdef TM_CONV_X86
// Each variant: whether its kernels take this convolution (the dtype, device and group checks are the caller's), and
// the convolution with its autograd backward.
#define TM_CONV_VARIANT(ns)                                                                                       \
  namespace ns {                                                                                                  \
  bool Applies(const torch::Tensor& x, const torch::Tensor& w, int64_t stride, int64_t padding, int64_t dilation, \
               int64_t upsample);                                                                                 \
  torch::Tensor Apply(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b, int64_t stride,     \
                      int64_t padding, int64_t dilation, int64_t upsample, const torch::Tensor& residual);        \
  }
TM_CONV_VARIANT(conv_avx512)
TM_CONV_VARIANT(conv_avx2)
#undef TM_CONV_VARIANT
#endif

}  // namespace torchmotion

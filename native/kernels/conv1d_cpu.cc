#include "kernels/conv1d_cpu.h"

#include <cstdlib>

#include "kernels/conv1d_isa.h"

namespace torchmotion {

namespace {

enum class Isa { kNone, kAvx2, kAvx512 };

// Decided once per process: AVX-512 where the CPU has it, else AVX2 + FMA, else LibTorch's convolutions.
// TORCHMOTION_NO_AVX512 makes an AVX-512 CPU take the AVX2 kernels (how they are tested and measured there);
// TORCHMOTION_NO_CONV_KERNEL makes every CPU take LibTorch's (the path CUDA and other CPUs take).
Isa Chosen() {
  static const Isa isa = [] {
#ifdef TM_CONV_X86
    if (std::getenv("TORCHMOTION_NO_CONV_KERNEL") != nullptr) return Isa::kNone;
    if (__builtin_cpu_supports("avx512f") && std::getenv("TORCHMOTION_NO_AVX512") == nullptr) return Isa::kAvx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::kAvx2;
#endif
    return Isa::kNone;
  }();
  return isa;
}

// x upsampled by nearest neighbour, as torch::nn::Upsample does, for LibTorch's convolution.
torch::Tensor Upsampled(const torch::Tensor& x, int64_t up) {
  if (up == 1) return x;
  namespace F = torch::nn::functional;
  return F::interpolate(
      x, F::InterpolateFuncOptions().scale_factor(std::vector<double>{static_cast<double>(up)}).mode(torch::kNearest));
}

}  // namespace

std::string ConvKernel() {
  switch (Chosen()) {
    case Isa::kAvx512: return "avx512";
    case Isa::kAvx2: return "avx2";
    default: return "none";
  }
}

bool Conv1dCpuApplies(const torch::Tensor& x, const torch::Tensor& w, int64_t stride, int64_t padding, int64_t dilation,
                      int64_t groups, int64_t upsample) {
  if (Chosen() == Isa::kNone || !x.is_cpu() || !w.is_cpu() || x.scalar_type() != torch::kFloat32 ||
      w.scalar_type() != torch::kFloat32)
    return false;
  if (x.dim() != 3 || w.dim() != 3 || x.size(1) != w.size(1) || groups != 1 || dilation < 1 || stride < 1 ||
      padding < 0)
    return false;
  if (x.size(0) == 0 || x.size(1) == 0 || w.size(0) == 0 || upsample < 1 || (upsample > 1 && stride > 1)) return false;
#ifdef TM_CONV_X86
  return Chosen() == Isa::kAvx512 ? conv_avx512::Applies(x, w, stride, padding, dilation, upsample)
                                  : conv_avx2::Applies(x, w, stride, padding, dilation, upsample);
#else
  return false;
#endif
}

// LibTorch's convolution, plus the residual if there is one (the fallback of both functions below).
torch::Tensor LibTorchConv(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b, int64_t stride,
                           int64_t padding, int64_t dilation, int64_t upsample, const torch::Tensor& residual) {
  torch::Tensor y = torch::conv1d(Upsampled(x, upsample), w, b, stride, padding, dilation);
  CheckResidual(residual, y);
  return residual.defined() ? y + residual : y;
}

torch::Tensor Conv1dCpu(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b, int64_t stride,
                        int64_t padding, int64_t dilation, int64_t upsample, const torch::Tensor& residual) {
#ifdef TM_CONV_X86
  if (Chosen() == Isa::kAvx512) return conv_avx512::Apply(x, w, b, stride, padding, dilation, upsample, residual);
  if (Chosen() == Isa::kAvx2) return conv_avx2::Apply(x, w, b, stride, padding, dilation, upsample, residual);
#endif
  return LibTorchConv(x, w, b, stride, padding, dilation, upsample, residual);
}

torch::Tensor Conv1dLayer(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b, int64_t stride,
                          int64_t padding, int64_t dilation, int64_t upsample, const torch::Tensor& residual) {
  const bool fits = !residual.defined() || (residual.is_cpu() && residual.scalar_type() == torch::kFloat32);
  if (fits && Conv1dCpuApplies(x, w, stride, padding, dilation, 1, upsample)) {
    return Conv1dCpu(x, w, b, stride, padding, dilation, upsample, residual);
  }
  return LibTorchConv(x, w, b, stride, padding, dilation, upsample, residual);
}

}  // namespace torchmotion

// LibTorch 1.13 (Debian) and 2.x (CUDA wheels) differ in a few public APIs. Everything version-dependent
// goes through this header, so the rest of native/ compiles unchanged against both.
#pragma once

#include <torch/torch.h>
#include <torch/version.h>

#include <string>

#define TM_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

// torch::scaled_dot_product_attention (fused / flash attention) is public from 2.0 on.
#define TM_HAS_FUSED_ATTENTION TM_TORCH_AT_LEAST(2, 0)
// torch::nn::RMSNorm arrived in 2.4; older builds use our own module.
#define TM_HAS_NN_RMSNORM TM_TORCH_AT_LEAST(2, 4)

namespace torchmotion {

inline std::string TorchVersion() { return TORCH_VERSION; }

// The message of a LibTorch error without the C++ backtrace that 1.13 and 2.x append differently.
inline std::string WithoutBacktrace(const c10::Error& e) { return e.what_without_backtrace(); }

// 2.x has a device-agnostic accelerator query; 1.13 only knows CUDA.
inline bool CudaAvailable() { return torch::cuda::is_available(); }
inline int CudaDeviceCount() { return static_cast<int>(torch::cuda::device_count()); }

}  // namespace torchmotion

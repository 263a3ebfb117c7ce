// LibTorch 1.13 (Debian) and 2.x (CUDA wheels) differ in a few public APIs. Everything version-dependent
// goes through this header, so the rest of native/ compiles unchanged against both.
#pragma once

#include <torch/torch.h>
#include <torch/version.h>

#include <cmath>
#include <limits>
#include <string>

#define TM_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

// torch::scaled_dot_product_attention (fused / flash attention) is public from 2.0 on.
#define TM_HAS_FUSED_ATTENTION TM_TORCH_AT_LEAST(2, 0)
// c10::Allocator: allocate() lost its const and copy_data() became pure virtual in 2.3.
#if TM_TORCH_AT_LEAST(2, 3)
#define TM_ALLOCATE_CONST
#define TM_ALLOCATOR_HAS_COPY_DATA 1
#else
#define TM_ALLOCATE_CONST const
#define TM_ALLOCATOR_HAS_COPY_DATA 0
#endif

// c10d's process groups (Gloo, NCCL) derive from c10d::Backend from 2.0 on, from c10d::ProcessGroup before.
#if TM_TORCH_AT_LEAST(2, 0)
#define TM_C10D_BACKEND c10d::Backend
#else
#define TM_C10D_BACKEND c10d::ProcessGroup
#endif

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

#include <ATen/autocast_mode.h>

namespace torchmotion {

// CUDA autocast on and off. 2.4 moved the switches to device-generic functions; 1.13 … 2.3 have the CUDA ones.
inline bool CudaAutocastEnabled() {
#if TM_TORCH_AT_LEAST(2, 4)
  return at::autocast::is_autocast_enabled(at::kCUDA);
#else
  return at::autocast::is_enabled();
#endif
}

inline void SetCudaAutocast(bool enabled, c10::ScalarType dtype) {
#if TM_TORCH_AT_LEAST(2, 4)
  at::autocast::set_autocast_dtype(at::kCUDA, dtype);
  at::autocast::set_autocast_enabled(at::kCUDA, enabled);
#else
  at::autocast::set_autocast_gpu_dtype(dtype);
  at::autocast::set_enabled(enabled);
#endif
  if (!enabled) at::autocast::clear_cache();
}

// bf16 autocast for a CUDA training step; a no-op on CPU.
class AutocastGuard {
 public:
  AutocastGuard(bool enable, c10::ScalarType dtype) : active_(enable), previous_(CudaAutocastEnabled()) {
    if (active_) SetCudaAutocast(true, dtype);
  }
  ~AutocastGuard() {
    if (active_) SetCudaAutocast(previous_, at::kBFloat16);
  }
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool active_, previous_;
};

// Turns autocast off inside a region that must stay fp32 (FSQ rounding).
class AutocastOff {
 public:
  AutocastOff() : previous_(CudaAutocastEnabled()) {
    if (previous_) SetCudaAutocast(false, at::kBFloat16);
  }
  ~AutocastOff() {
    if (previous_) SetCudaAutocast(true, at::kBFloat16);
  }
  AutocastOff(const AutocastOff&) = delete;
  AutocastOff& operator=(const AutocastOff&) = delete;

 private:
  bool previous_;
};

}  // namespace torchmotion

namespace torchmotion {

// Attention with a boolean mask (true = may attend). LibTorch 2.x has a fused kernel; 1.13 gets the exact
// textbook computation, with the softmax in fp32.
inline torch::Tensor ScaledDotProductAttention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                               const torch::Tensor& allowed) {
#if TM_HAS_FUSED_ATTENTION
  return at::scaled_dot_product_attention(q, k, v, allowed);
#else
  torch::Tensor scores =
      torch::matmul(q, k.transpose(-2, -1)).to(torch::kFloat32) / std::sqrt(static_cast<double>(q.size(-1)));
  scores = scores.masked_fill(allowed.logical_not(), -std::numeric_limits<float>::infinity());
  return torch::matmul(torch::softmax(scores, -1).to(v.scalar_type()), v);
#endif
}

}  // namespace torchmotion

#include <sstream>
#include <type_traits>

namespace torchmotion {

// The key of an optimiser's per-parameter state: 1.13 prints the TensorImpl pointer into a string, later 2.x
// releases key by the pointer itself. The key type is read off Optimizer::state() so both compile.
using OptimizerStateMap = std::remove_reference_t<decltype(std::declval<torch::optim::Optimizer&>().state())>;
template <typename Key = typename OptimizerStateMap::key_type>
Key OptimizerStateKey(const torch::Tensor& p) {
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream os;
    os << static_cast<const void*>(p.unsafeGetTensorImpl());
    return os.str();
  } else {
    return Key(p.unsafeGetTensorImpl());
  }
}

}  // namespace torchmotion

// LibTorch's legacy profiler writes one traced region as Chrome trace JSON (Tokenizer.step's `profile` option).
#if __has_include(<torch/csrc/autograd/profiler_legacy.h>)
#include <torch/csrc/autograd/profiler_legacy.h>
#define TM_HAS_RECORD_PROFILE 1
#else
#define TM_HAS_RECORD_PROFILE 0
#endif

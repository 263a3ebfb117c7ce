// info() and setThreads(): what LibTorch this addon runs on and how it is configured.
#include "binding/exports.h"

#include "kernels/conv1d_cpu.h"

#include <ATen/Parallel.h>
#include <ATen/Version.h>

#include "binding/errors.h"
#include "kernels/packed_linear.h"
#include "runtime/cpu_allocator.h"
#include "runtime/threads.h"

namespace torchmotion {
namespace {

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value {
    auto out = Napi::Object::New(env);
    out.Set("torchVersion", TorchVersion());
    auto cuda = Napi::Object::New(env);
    cuda.Set("available", CudaAvailable());
    cuda.Set("deviceCount", CudaAvailable() ? CudaDeviceCount() : 0);
    out.Set("cuda", cuda);
    out.Set("threads", DefaultThreads());
    out.Set("blas", BlasRuntimeInfo());
    out.Set("blasThreads", BlasThreads());
    out.Set("fusedAttention", static_cast<bool>(TM_HAS_FUSED_ATTENTION));
    out.Set("packedKernel", PackedKernel());
    out.Set("convKernel", ConvKernel());
    out.Set("buildConfig", at::show_config());
    out.Set("parallelInfo", at::get_parallel_info());
    CpuCacheStats cache = CpuCacheStatistics();
    auto c = Napi::Object::New(env);
    c.Set("installed", cache.installed);
    c.Set("cachedMB", static_cast<double>(cache.cached_bytes) / (1 << 20));
    c.Set("liveMB", static_cast<double>(cache.live_bytes) / (1 << 20));
    c.Set("peakLiveMB", static_cast<double>(cache.peak_live_bytes) / (1 << 20));
    c.Set("markMB", static_cast<double>(cache.mark_bytes) / (1 << 20));
    out.Set("cpuCache", c);
    return out;
  });
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value {
    if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "setThreads: expected a number");
    double n = info[0].As<Napi::Number>().DoubleValue();
    if (!(n >= 1 && n <= 1024) || n != static_cast<int>(n)) {
      throw Napi::RangeError::New(
          env, "setThreads: threads must be an integer in [1, 1024], received " + info[0].ToString().Utf8Value());
    }
    SetDefaultThreads(static_cast<int>(n));
    return env.Undefined();
  });
}

// resetMemoryMark(): the high-water mark of tensor memory (info().cpuCache.markMB) starts again from what is in use.
Napi::Value ResetMemoryMark(const Napi::CallbackInfo& info) {
  ResetCpuPeakMark();
  return info.Env().Undefined();
}

}  // namespace

void RegisterInfo(Napi::Env env, Napi::Object exports) {
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads, "setThreads"));
  exports.Set("resetMemoryMark", Napi::Function::New(env, ResetMemoryMark, "resetMemoryMark"));
}

}  // namespace torchmotion

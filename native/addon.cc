// Only registers exports; each concern lives in its own folder (docs/architecture.md).
#include <napi.h>

#include "binding/exports.h"
#include "runtime/cpu_allocator.h"

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  torchmotion::InstallCachingCpuAllocator();
  torchmotion::RegisterInfo(env, exports);
  torchmotion::RegisterOps(env, exports);
  torchmotion::RegisterMetrics(env, exports);
  torchmotion::RegisterTokenizer(env, exports);
  torchmotion::RegisterT2M(env, exports);
  torchmotion::RegisterTextScript(env, exports);
  torchmotion::RegisterEvaluator(env, exports);
  torchmotion::RegisterProcessGroup(env, exports);
  torchmotion::RegisterPfnn(env, exports);
  return exports;
}

NODE_API_MODULE(torchmotion, Init)

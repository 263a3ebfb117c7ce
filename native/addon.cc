// Only registers exports; each concern lives in its own file.
#include <napi.h>

#include "cpu_allocator.h"
#include "distributed_wrap.h"
#include "info.h"
#include "metrics.h"
#include "ops.h"
#include "pfnn_wrap.h"
#include "retrieval_wrap.h"
#include "t2m_wrap.h"
#include "text_script.h"
#include "tokenizer_wrap.h"

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  torchmotion::InstallCachingCpuAllocator();
  torchmotion::RegisterInfo(env, exports);
  torchmotion::RegisterOps(env, exports);
  torchmotion::RegisterMetrics(env, exports);
  torchmotion::TokenizerWrap::Register(env, exports);
  torchmotion::T2MWrap::Register(env, exports);
  torchmotion::TextScript::Register(env, exports);
  torchmotion::RetrievalWrap::Register(env, exports);
  torchmotion::ProcessGroupWrap::Register(env, exports);
  torchmotion::PfnnWrap::Register(env, exports);
  return exports;
}

NODE_API_MODULE(torchmotion, Init)

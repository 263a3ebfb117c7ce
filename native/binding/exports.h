// What the addon exports, one registration function per concern; addon.cc calls each once. A model's JS class is
// defined in its models/<model>/binding.cc, a stateless function group in ops/ or runtime/.
#pragma once

#include <napi.h>

namespace torchmotion {

void RegisterInfo(Napi::Env env, Napi::Object exports);          // runtime/info.cc
void RegisterOps(Napi::Env env, Napi::Object exports);           // ops/ops.cc
void RegisterMetrics(Napi::Env env, Napi::Object exports);       // ops/metrics.cc
void RegisterProcessGroup(Napi::Env env, Napi::Object exports);  // distributed/binding.cc
void RegisterTokenizer(Napi::Env env, Napi::Object exports);     // models/tokenizer/binding.cc
void RegisterT2M(Napi::Env env, Napi::Object exports);           // models/t2m/binding.cc
void RegisterTextScript(Napi::Env env, Napi::Object exports);    // models/t2m/text_script.cc
void RegisterEvaluator(Napi::Env env, Napi::Object exports);     // models/evaluator/binding.cc
void RegisterPfnn(Napi::Env env, Napi::Object exports);          // models/pfnn/binding.cc

}  // namespace torchmotion

// JS class `TextToMotion`: the LLaMA-style decoder (with the optional built-in text encoder), its AdamW optimiser,
// training steps with gradient accumulation, held-out loss, logits for golden tests, and generation with or without a KV cache.
#pragma once

#include <napi.h>

#include <memory>

#include "flat_adamw.h"
#include "model_call.h"
#include "transformer.h"

namespace torchmotion {

class T2MWrap : public Napi::ObjectWrap<T2MWrap> {
 public:
  static void Register(Napi::Env env, Napi::Object exports);
  explicit T2MWrap(const Napi::CallbackInfo& info);

 private:
  struct Batch {
    torch::Tensor text, lengths, codes;
    std::vector<Napi::Reference<Napi::Value>> keep;
  };
  Batch ReadBatch(const Napi::Value& v, bool need_codes);
  Napi::Value ParameterTable(const Napi::CallbackInfo& info);
  Napi::Value StateDict(const Napi::CallbackInfo& info);
  Napi::Value LoadStateDict(const Napi::CallbackInfo& info);
  Napi::Value JoinProcessGroup(const Napi::CallbackInfo& info);
  Napi::Value Step(const Napi::CallbackInfo& info);
  Napi::Value Evaluate(const Napi::CallbackInfo& info);
  Napi::Value Logits(const Napi::CallbackInfo& info);
  Napi::Value Generate(const Napi::CallbackInfo& info);
  Napi::Value Save(const Napi::CallbackInfo& info);
  Napi::Value Load(const Napi::CallbackInfo& info);

  T2MDecoder model_{nullptr};
  std::unique_ptr<FlatAdamW> optimizer_;
  torch::Device device_{torch::kCPU};
  BusyFlag busy_;
};

}  // namespace torchmotion

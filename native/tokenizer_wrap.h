// JS class `Tokenizer`: the motion tokenizer with its AdamW optimiser; one native call per training step.
#pragma once

#include <napi.h>

#include <memory>
#include <vector>

#include "flat_adamw.h"
#include "model_call.h"
#include "tokenizer.h"

namespace torchmotion {

class TokenizerWrap : public Napi::ObjectWrap<TokenizerWrap> {
 public:
  static void Register(Napi::Env env, Napi::Object exports);
  explicit TokenizerWrap(const Napi::CallbackInfo& info);

 private:
  torch::Tensor BorrowMotion(const Napi::Value& v, std::vector<Napi::Reference<Napi::Value>>& keep);
  Napi::Value ParameterTable(const Napi::CallbackInfo& info);
  Napi::Value StateDict(const Napi::CallbackInfo& info);
  Napi::Value LoadStateDict(const Napi::CallbackInfo& info);
  Napi::Value JoinProcessGroup(const Napi::CallbackInfo& info);
  Napi::Value Step(const Napi::CallbackInfo& info);
  Napi::Value Reconstruct(const Napi::CallbackInfo& info);
  Napi::Value Encode(const Napi::CallbackInfo& info);
  Napi::Value Decode(const Napi::CallbackInfo& info);
  Napi::Value Save(const Napi::CallbackInfo& info);
  Napi::Value Load(const Napi::CallbackInfo& info);
  Napi::Value CodebookSize(const Napi::CallbackInfo& info);
  Napi::Value Downsampling(const Napi::CallbackInfo& info);

  Tokenizer model_{nullptr};
  std::unique_ptr<FlatAdamW> optimizer_;
  torch::Device device_{torch::kCPU};
  BusyFlag busy_;
};

}  // namespace torchmotion

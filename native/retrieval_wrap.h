// JS class `Evaluator`: the text–motion retrieval evaluator (retrieval.h), its AdamW optimiser, InfoNCE training
// steps, and embeddings of captions and motions for retrieval and the text-to-motion metrics.
#pragma once

#include <napi.h>

#include <memory>

#include "flat_adamw.h"
#include "model_call.h"
#include "retrieval.h"

namespace torchmotion {

class RetrievalWrap : public Napi::ObjectWrap<RetrievalWrap> {
 public:
  static void Register(Napi::Env env, Napi::Object exports);
  explicit RetrievalWrap(const Napi::CallbackInfo& info);

 private:
  struct Side {
    torch::Tensor values, lengths;
    std::vector<Napi::Reference<Napi::Value>> keep;
  };
  Side ReadText(const Napi::Object& batch);
  Side ReadMotion(const Napi::Object& batch);
  Napi::Value ParameterTable(const Napi::CallbackInfo& info);
  Napi::Value StateDict(const Napi::CallbackInfo& info);
  Napi::Value LoadStateDict(const Napi::CallbackInfo& info);
  Napi::Value JoinProcessGroup(const Napi::CallbackInfo& info);
  Napi::Value Step(const Napi::CallbackInfo& info);
  Napi::Value EmbedText(const Napi::CallbackInfo& info);
  Napi::Value EmbedMotion(const Napi::CallbackInfo& info);
  Napi::Value Save(const Napi::CallbackInfo& info);
  Napi::Value Load(const Napi::CallbackInfo& info);

  RetrievalModel model_{nullptr};
  std::unique_ptr<FlatAdamW> optimizer_;
  torch::Device device_{torch::kCPU};
  BusyFlag busy_;
};

}  // namespace torchmotion

// JS class `Pfnn`: the Phase-Functioned Neural Network (pfnn.h) with its Adam optimiser: training steps, held-out
// error, forward passes at given phases, and its control points as a state dict.
#pragma once

#include <napi.h>

#include <memory>

#include "flat_adamw.h"
#include "model_call.h"
#include "pfnn.h"
#include "pfnn_step.h"

namespace torchmotion {

class PfnnWrap : public Napi::ObjectWrap<PfnnWrap> {
 public:
  static void Register(Napi::Env env, Napi::Object exports);
  explicit PfnnWrap(const Napi::CallbackInfo& info);

 private:
  struct Borrowed {
    PfnnBatch batch;
    std::vector<Napi::Reference<Napi::Value>> keep;
  };
  Borrowed ReadBatch(const Napi::CallbackInfo& info, const char* what, bool targets);
  Napi::Value ParameterTable(const Napi::CallbackInfo& info);
  Napi::Value StateDict(const Napi::CallbackInfo& info);
  Napi::Value LoadStateDict(const Napi::CallbackInfo& info);
  Napi::Value Step(const Napi::CallbackInfo& info);
  Napi::Value Evaluate(const Napi::CallbackInfo& info);
  Napi::Value Forward(const Napi::CallbackInfo& info);
  Napi::Value Save(const Napi::CallbackInfo& info);
  Napi::Value Load(const Napi::CallbackInfo& info);

  Pfnn model_{nullptr};
  std::unique_ptr<FlatAdamW> optimizer_;
  torch::Device device_{torch::kCPU};
  BusyFlag busy_;
};

}  // namespace torchmotion

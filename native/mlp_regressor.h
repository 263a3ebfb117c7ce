// A two-layer perceptron fitted by Adam on mean squared error. It is the smallest complete instance of the
// pattern every trainable native model follows: an ObjectWrap owning module + optimiser, one async training
// step per call, and at most one call in flight per model.
#pragma once

#include <napi.h>

#include "compat.h"
#include "model_call.h"
#include "threads.h"

namespace torchmotion {

class MlpRegressor : public Napi::ObjectWrap<MlpRegressor> {
 public:
  static void Register(Napi::Env env, Napi::Object exports);
  explicit MlpRegressor(const Napi::CallbackInfo& info);

 private:
  Napi::Value Step(const Napi::CallbackInfo& info);
  Napi::Value Predict(const Napi::CallbackInfo& info);
  Napi::Value ParameterCount(const Napi::CallbackInfo& info);

  int inputs_ = 0, outputs_ = 0;
  torch::Device device_{torch::kCPU};
  torch::nn::Sequential net_{nullptr};
  std::unique_ptr<torch::optim::Adam> optimizer_;
  BusyFlag busy_;
};

}  // namespace torchmotion

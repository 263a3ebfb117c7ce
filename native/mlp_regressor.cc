#include "mlp_regressor.h"

#include "args.h"
#include "async_worker.h"
#include "device.h"
#include "tensor_bridge.h"

namespace torchmotion {
namespace {

TensorSpec Batch(const char* name, int width) { return Spec(name, torch::kFloat32, {-1, width}, {"B", ""}); }

}  // namespace

void MlpRegressor::Register(Napi::Env env, Napi::Object exports) {
  Napi::Function cls = DefineClass(env, "MlpRegressor",
                                   {InstanceMethod<&MlpRegressor::Step>("step"),
                                    InstanceMethod<&MlpRegressor::Predict>("predict"),
                                    InstanceAccessor<&MlpRegressor::ParameterCount>("parameterCount")});
  exports.Set("MlpRegressor", cls);
}

MlpRegressor::MlpRegressor(const Napi::CallbackInfo& info) : Napi::ObjectWrap<MlpRegressor>(info) {
  Napi::Env env = info.Env();
  Guarded(env, [&] {
    auto opts = OptionsArg(info, 0, "MlpRegressor");
    inputs_ = IntOption(opts, "inputs", 1, 1, 1 << 20);
    int hidden = IntOption(opts, "hidden", 32, 1, 1 << 20);
    outputs_ = IntOption(opts, "outputs", 1, 1, 1 << 20);
    double lr = NumberOption(opts, "lr", 1e-2, 0.0, 10.0);
    torch::manual_seed(static_cast<uint64_t>(IntOption(opts, "seed", 0, 0, 2147483647)));
    device_ = ParseDevice(StringOption(opts, "device", "cpu"));
    net_ = torch::nn::Sequential(torch::nn::Linear(inputs_, hidden), torch::nn::Tanh(),
                                 torch::nn::Linear(hidden, outputs_));
    net_->to(device_);
    optimizer_ = std::make_unique<torch::optim::Adam>(net_->parameters(), torch::optim::AdamOptions(lr));
  });
}

// step(x (B,in) float32, y (B,out) float32, {threads}) → Promise<number>: the loss before the update.
Napi::Value MlpRegressor::Step(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value {
    auto opts = OptionsArg(info, 2, "MlpRegressor.step");
    auto x = BorrowTensor(info[0], Batch("x", inputs_));
    auto y = BorrowTensor(info[1], Batch("y", outputs_));
    if (x.tensor.size(0) != y.tensor.size(0)) {
      throw Napi::TypeError::New(env, "MlpRegressor.step: x has " + std::to_string(x.tensor.size(0)) +
                                          " rows but y has " + std::to_string(y.tensor.size(0)));
    }
    std::vector<Napi::Reference<Napi::Value>> keep;
    keep.push_back(std::move(x.keep));
    keep.push_back(std::move(y.keep));
    torch::Tensor tx = x.tensor, ty = y.tensor;
    return RunModelCall(env, Value(), busy_, "MlpRegressor.step", ThreadOption(opts, true), std::move(keep), [this, tx, ty]() -> ToJs {
      optimizer_->zero_grad();
      torch::Tensor loss = torch::mse_loss(net_->forward(tx.to(device_)), ty.to(device_));
      loss.backward();
      optimizer_->step();
      double value = loss.item<double>();
      return [value](Napi::Env e) -> Napi::Value { return Napi::Number::New(e, value); };
    });
  });
}

// predict(x (B,in) float32, {threads}) → Promise<tensor (B,out)>, without autograd.
Napi::Value MlpRegressor::Predict(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value {
    auto opts = OptionsArg(info, 1, "MlpRegressor.predict");
    auto x = BorrowTensor(info[0], Batch("x", inputs_));
    std::vector<Napi::Reference<Napi::Value>> keep;
    keep.push_back(std::move(x.keep));
    torch::Tensor tx = x.tensor;
    return RunModelCall(env, Value(), busy_, "MlpRegressor.predict", ThreadOption(opts, false), std::move(keep), [this, tx]() -> ToJs {
      torch::Tensor out = net_->forward(tx.to(device_));
      return [out](Napi::Env e) -> Napi::Value { return CopyTensorToJs(e, out); };
    });
  });
}

Napi::Value MlpRegressor::ParameterCount(const Napi::CallbackInfo& info) {
  int64_t n = 0;
  for (const auto& p : net_->parameters()) n += p.numel();
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

}  // namespace torchmotion

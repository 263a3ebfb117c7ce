#include "mlp_regressor.h"

#include "args.h"
#include "async_worker.h"
#include "device.h"
#include "tensor_bridge.h"

namespace torchmotion {
namespace {

TensorSpec Batch(const char* name, int width) {
  TensorSpec spec;
  spec.name = name;
  spec.dtype = torch::kFloat32;
  spec.shape = {-1, width};
  spec.dim_names = {"B", ""};
  return spec;
}

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

void MlpRegressor::Claim(Napi::Env env, const char* method) {
  if (busy_) {
    throw Napi::Error::New(env, std::string("MlpRegressor.") + method +
                                    ": another call is still running on this model; await it first "
                                    "(one call in flight per model)");
  }
  busy_ = true;
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
    ThreadState state = ThreadOption(opts, true);
    Claim(env, "step");
    std::vector<Napi::Reference<Napi::Value>> keep;
    keep.push_back(std::move(x.keep));
    keep.push_back(std::move(y.keep));
    keep.push_back(Napi::Persistent(Napi::Value(Value())));  // the model outlives its own step
    torch::Tensor tx = x.tensor, ty = y.tensor;
    return TorchWorker::Start(env, state, [this, tx, ty]() -> ToJs {
      optimizer_->zero_grad();
      torch::Tensor loss = torch::mse_loss(net_->forward(tx.to(device_)), ty.to(device_));
      loss.backward();
      optimizer_->step();
      double value = loss.item<double>();
      return [value](Napi::Env e) -> Napi::Value { return Napi::Number::New(e, value); };
    }, std::move(keep), [this] { busy_ = false; });
  });
}

// predict(x (B,in) float32, {threads}) → Promise<tensor (B,out)>, without autograd.
Napi::Value MlpRegressor::Predict(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value {
    auto opts = OptionsArg(info, 1, "MlpRegressor.predict");
    auto x = BorrowTensor(info[0], Batch("x", inputs_));
    ThreadState state = ThreadOption(opts, false);
    Claim(env, "predict");
    std::vector<Napi::Reference<Napi::Value>> keep;
    keep.push_back(std::move(x.keep));
    keep.push_back(Napi::Persistent(Napi::Value(Value())));
    torch::Tensor tx = x.tensor;
    return TorchWorker::Start(env, state, [this, tx]() -> ToJs {
      torch::Tensor out = net_->forward(tx.to(device_));
      return [out](Napi::Env e) -> Napi::Value { return CopyTensorToJs(e, out); };
    }, std::move(keep), [this] { busy_ = false; });
  });
}

Napi::Value MlpRegressor::ParameterCount(const Napi::CallbackInfo& info) {
  int64_t n = 0;
  for (const auto& p : net_->parameters()) n += p.numel();
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

}  // namespace torchmotion

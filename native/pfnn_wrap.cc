#include "pfnn_wrap.h"

#include "args.h"
#include "device.h"
#include "module_tables.h"
#include "tensor_bridge.h"

namespace torchmotion {

void PfnnWrap::Register(Napi::Env env, Napi::Object exports) {
  exports.Set("Pfnn", DefineClass(env, "Pfnn", {
    InstanceMethod<&PfnnWrap::ParameterTable>("parameterTable"),
    InstanceMethod<&PfnnWrap::StateDict>("stateDict"),
    InstanceMethod<&PfnnWrap::LoadStateDict>("loadStateDict"),
    InstanceMethod<&PfnnWrap::Step>("step"),
    InstanceMethod<&PfnnWrap::Evaluate>("evaluate"),
    InstanceMethod<&PfnnWrap::Forward>("forward"),
    InstanceMethod<&PfnnWrap::Save>("save"),
    InstanceMethod<&PfnnWrap::Load>("load"),
  }));
}

// new Pfnn({input, output, hidden, keep, seed, device, lr, beta1, beta2, weightDecay, eps}).
PfnnWrap::PfnnWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PfnnWrap>(info) {
  Napi::Env env = info.Env();
  Guarded(env, [&] {
    auto o = OptionsArg(info, 0, "Pfnn");
    const char* what = "Pfnn";
    PfnnConfig c;
    c.input = RequiredInt(o, what, "input", 1, 1 << 16);
    c.output = RequiredInt(o, what, "output", 1, 1 << 16);
    c.hidden = RequiredInt(o, what, "hidden", 1, 1 << 16);
    c.keep = RequiredNumber(o, what, "keep", 1e-3, 1);
    torch::manual_seed(static_cast<uint64_t>(RequiredInt(o, what, "seed", 0, 2147483647)));
    device_ = ParseDevice(StringOption(o, "device", "cpu"));
    model_ = Pfnn(c);
    model_->to(device_);
    optimizer_ = std::make_unique<FlatAdamW>(model_->parameters(), RequiredAdamW(o, what));
    return env.Undefined();
  });
}

// {x: (B, input) float32, phase: (B) float32 in [0, 1), y: (B, output) float32 when `targets`}.
PfnnWrap::Borrowed PfnnWrap::ReadBatch(const Napi::CallbackInfo& info, const char* what, bool targets) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, std::string(what) + ": expected a batch {x, phase" + (targets ? ", y}" : "}"));
  Napi::Object o = info[0].As<Napi::Object>();
  const auto& c = model_->config();
  Borrowed b;
  auto x = BorrowTensor(o.Get("x"), Spec("x", torch::kFloat32, {-1, c.input}, {"B", ""}));
  const int64_t B = x.tensor.size(0);
  auto phase = BorrowTensor(o.Get("phase"), Spec("phase", torch::kFloat32, {B}, {""}));
  if (B > 0 && (phase.tensor.min().item<float>() < 0 || phase.tensor.max().item<float>() >= 1)) {
    throw Napi::RangeError::New(env, std::string(what) + ": every phase must lie in [0, 1)");
  }
  b.batch.x = x.tensor;
  b.batch.phase = phase.tensor;
  b.keep.push_back(std::move(x.keep));
  b.keep.push_back(std::move(phase.keep));
  if (targets) {
    auto y = BorrowTensor(o.Get("y"), Spec("y", torch::kFloat32, {B, c.output}, {"", ""}));
    b.batch.y = y.tensor;
    b.keep.push_back(std::move(y.keep));
  }
  return b;
}

Napi::Value PfnnWrap::ParameterTable(const Napi::CallbackInfo& info) { return ParameterTableToJs(info.Env(), *model_); }

Napi::Value PfnnWrap::StateDict(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value { return StateDictToJs(env, *model_); });
}

Napi::Value PfnnWrap::LoadStateDict(const Napi::CallbackInfo& info) { return LoadStateDictCall(info, busy_, "Pfnn.loadStateDict", *model_); }

// step({x, phase, y}, {lr, gamma, seed, threads}) → Promise<{loss, mse, penalty, gradNorm, nonFinite?}>.
Napi::Value PfnnWrap::Step(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value {
    const char* what = "Pfnn.step";
    Borrowed b = ReadBatch(info, what, true);
    auto o = OptionsArg(info, 1, what);
    PfnnStepArgs a;
    a.lr = RequiredNumber(o, what, "lr", 0, 10);
    a.gamma = RequiredNumber(o, what, "gamma", 0, 1e6);
    a.seed = static_cast<uint64_t>(RequiredNumber(o, what, "seed", 0, 9007199254740991.0));
    PfnnBatch batch = b.batch;
    return RunModelCall(env, Value(), busy_, what, ThreadOption(o, true), std::move(b.keep), [=]() -> ToJs {
      PfnnStepResult r = PfnnTrainStep(model_, *optimizer_, batch, device_, a);
      std::string non_finite = r.non_finite;
      return [r, non_finite](Napi::Env e) -> Napi::Value {
        auto out = Napi::Object::New(e);
        out.Set("loss", r.loss);
        out.Set("mse", r.mse);
        out.Set("penalty", r.penalty);
        out.Set("gradNorm", r.grad_norm);
        if (!non_finite.empty()) out.Set("nonFinite", non_finite);
        return out;
      };
    });
  });
}

// evaluate({x, phase, y}, {threads}) → Promise<{mse}>: eval mode, no dropout, no gradients.
Napi::Value PfnnWrap::Evaluate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value {
    const char* what = "Pfnn.evaluate";
    Borrowed b = ReadBatch(info, what, true);
    PfnnBatch batch = b.batch;
    return RunModelCall(env, Value(), busy_, what, ThreadOption(OptionsArg(info, 1, what), false), std::move(b.keep), [=]() -> ToJs {
      const double mse = PfnnEvaluate(model_, batch, device_);
      return [mse](Napi::Env e) -> Napi::Value {
        auto out = Napi::Object::New(e);
        out.Set("mse", mse);
        return out;
      };
    });
  });
}

// forward({x, phase}, {threads}) → Promise<(B, output) float32>: eval mode, normalised outputs.
Napi::Value PfnnWrap::Forward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value {
    const char* what = "Pfnn.forward";
    Borrowed b = ReadBatch(info, what, false);
    PfnnBatch batch = b.batch;
    return RunModelCall(env, Value(), busy_, what, ThreadOption(OptionsArg(info, 1, what), false), std::move(b.keep), [=]() -> ToJs {
      torch::NoGradGuard no_grad;
      model_->eval();
      torch::Tensor y = model_->forward(batch.x.to(device_), batch.phase.to(device_)).cpu();
      return [y](Napi::Env e) -> Napi::Value { return CopyTensorToJs(e, y); };
    });
  });
}

Napi::Value PfnnWrap::Save(const Napi::CallbackInfo& info) {
  return CheckpointCall(info, Value(), busy_, "Pfnn.save", true, *model_, optimizer_.get(), device_);
}

Napi::Value PfnnWrap::Load(const Napi::CallbackInfo& info) {
  return CheckpointCall(info, Value(), busy_, "Pfnn.load", false, *model_, optimizer_.get(), device_);
}

}  // namespace torchmotion

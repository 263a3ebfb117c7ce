// JS class `Pfnn`: the Phase-Functioned Neural Network (pfnn.h) with its Adam optimiser: training steps, held-out
// error, forward passes at given phases, and its control points as a state dict.
#include "binding/exports.h"
#include "binding/model_binding.h"
#include "models/pfnn/pfnn.h"
#include "models/pfnn/step.h"

namespace torchmotion {
namespace {

class PfnnBinding : public ModelBinding<PfnnBinding, Pfnn> {
 public:
  explicit PfnnBinding(const Napi::CallbackInfo& info);
  static void Register(Napi::Env env, Napi::Object exports) {
    Define(env, exports, "Pfnn", {
        InstanceMethod<&PfnnBinding::Step>("step"),
        InstanceMethod<&PfnnBinding::Evaluate>("evaluate"),
        InstanceMethod<&PfnnBinding::Forward>("forward"),
    });
  }

 private:
  struct Borrowed {
    PfnnBatch batch;
    std::vector<Napi::Reference<Napi::Value>> keep;
  };
  Borrowed ReadBatch(const Napi::CallbackInfo& info, const char* what, bool targets);
  Napi::Value Step(const Napi::CallbackInfo& info);
  Napi::Value Evaluate(const Napi::CallbackInfo& info);
  Napi::Value Forward(const Napi::CallbackInfo& info);
};

// new Pfnn({input, output, hidden, keep, seed, device, lr, beta1, beta2, weightDecay, eps}).
PfnnBinding::PfnnBinding(const Napi::CallbackInfo& info) : ModelBinding(info, "Pfnn") {
  Napi::Env env = info.Env();
  Guarded(env, [&] {
    auto o = OptionsArg(info, 0, name_);
    const char* what = name_;
    PfnnConfig c;
    c.input = RequiredInt(o, what, "input", 1, 1 << 16);
    c.output = RequiredInt(o, what, "output", 1, 1 << 16);
    c.hidden = RequiredInt(o, what, "hidden", 1, 1 << 16);
    c.keep = RequiredNumber(o, what, "keep", 1e-3, 1);
    Build(o, [&] { return Pfnn(c); });
    return env.Undefined();
  });
}

// {x: (B, input) float32, phase: (B) float32 in [0, 1), y: (B, output) float32 when `targets`}.
PfnnBinding::Borrowed PfnnBinding::ReadBatch(const Napi::CallbackInfo& info, const char* what, bool targets) {
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

// step({x, phase, y}, {lr, gamma, seed, threads}) → Promise<{loss, mse, penalty, gradNorm, nonFinite?}>.
Napi::Value PfnnBinding::Step(const Napi::CallbackInfo& info) {
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
    return Run(env, what, ThreadOption(o, true), std::move(b.keep), [=]() -> ToJs {
      PfnnStepResult r = PfnnTrainStep(model_, *optimizer_, batch, device_, a);
      return StepReportToJs({{{"loss", r.loss}, {"mse", r.mse}, {"penalty", r.penalty}, {"gradNorm", r.grad_norm}}, r.non_finite, {}});
    });
  });
}

// evaluate({x, phase, y}, {threads}) → Promise<{mse}>: eval mode, no dropout, no gradients.
Napi::Value PfnnBinding::Evaluate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value {
    const char* what = "Pfnn.evaluate";
    Borrowed b = ReadBatch(info, what, true);
    PfnnBatch batch = b.batch;
    return Run(env, what, ThreadOption(OptionsArg(info, 1, what), false), std::move(b.keep), [=]() -> ToJs {
      return StepReportToJs({{{"mse", PfnnEvaluate(model_, batch, device_)}}, "", {}});
    });
  });
}

// forward({x, phase}, {threads}) → Promise<(B, output) float32>: eval mode, normalised outputs.
Napi::Value PfnnBinding::Forward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value {
    const char* what = "Pfnn.forward";
    Borrowed b = ReadBatch(info, what, false);
    PfnnBatch batch = b.batch;
    return Run(env, what, ThreadOption(OptionsArg(info, 1, what), false), std::move(b.keep), [=]() -> ToJs {
      torch::NoGradGuard no_grad;
      model_->eval();
      torch::Tensor y = model_->forward(batch.x.to(device_), batch.phase.to(device_)).cpu();
      return [y](Napi::Env e) -> Napi::Value { return CopyTensorToJs(e, y); };
    });
  });
}

}  // namespace

void RegisterPfnn(Napi::Env env, Napi::Object exports) { PfnnBinding::Register(env, exports); }

}  // namespace torchmotion

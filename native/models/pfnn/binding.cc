// JS class `Pfnn`: the Phase-Functioned Neural Network (pfnn.h) with its Adam optimiser: training steps, held-out
// error, forward passes at given phases, and its control points as a state dict.
#include "binding/exports.h"
#include "binding/model_binding.h"
#include "models/pfnn/pfnn.h"
#include "models/pfnn/step.h"

namespace torchmotion {

// new Pfnn({input, output, hidden, keep, seed, device, lr, beta1, beta2, weightDecay, eps}).
template <>
Pfnn MakeModule<Pfnn>(const Napi::Object& o, const char* what) {
  PfnnConfig c;
  c.input = RequiredSize(o, what, "input");
  c.output = RequiredSize(o, what, "output");
  c.hidden = RequiredSize(o, what, "hidden");
  c.keep = RequiredNumber(o, what, "keep", 1e-3, 1);
  return Pfnn(c);
}

namespace {

class PfnnBinding : public ModelBinding<PfnnBinding, Pfnn> {
 public:
  // step({x, phase, y}, {lr, gamma, seed, threads}) → Promise<{loss, mse, penalty, gradNorm, nonFinite?}>.
  Napi::Value Step(const Napi::CallbackInfo& info) {
    return Call(info, "step", [&](const char* what, const Napi::Object& o) -> Napi::Value {
      Borrowed b = ReadBatch(info, what, true);
      PfnnStepArgs a;
      a.lr = RequiredNumber(o, what, "lr", 0, 10);
      a.gamma = RequiredNumber(o, what, "gamma", 0, 1e6);
      a.seed = static_cast<uint64_t>(RequiredNumber(o, what, "seed", 0, 9007199254740991.0));
      PfnnBatch batch = b.batch;
      return Run(info.Env(), what, ThreadOption(o, true), std::move(b.keep), [=]() -> ToJs {
        PfnnStepResult r = PfnnTrainStep(model_, *optimizer_, batch, device_, a);
        return StepReportToJs(
            {{{"loss", r.loss}, {"mse", r.mse}, {"penalty", r.penalty}, {"gradNorm", r.grad_norm}}, r.non_finite, {}});
      });
    });
  }

  // evaluate({x, phase, y}, {threads}) → Promise<{mse}>: eval mode, no dropout, no gradients.
  Napi::Value Evaluate(const Napi::CallbackInfo& info) {
    return Call(info, "evaluate", [&](const char* what, const Napi::Object& o) -> Napi::Value {
      Borrowed b = ReadBatch(info, what, true);
      PfnnBatch batch = b.batch;
      return Run(info.Env(), what, ThreadOption(o, false), std::move(b.keep), [=]() -> ToJs {
        return StepReportToJs({{{"mse", PfnnEvaluate(model_, batch, device_)}}, "", {}});
      });
    });
  }

  // forward({x, phase}, {threads}) → Promise<(B, output) float32>: eval mode, normalised outputs.
  Napi::Value Forward(const Napi::CallbackInfo& info) {
    return Call(info, "forward", [&](const char* what, const Napi::Object& o) -> Napi::Value {
      Borrowed b = ReadBatch(info, what, false);
      PfnnBatch batch = b.batch;
      return Run(info.Env(), what, ThreadOption(o, false), std::move(b.keep), [=]() -> ToJs {
        torch::NoGradGuard no_grad;
        model_->eval();
        return TensorResult(model_->forward(batch.x.to(device_), batch.phase.to(device_)).cpu());
      });
    });
  }

 private:
  struct Borrowed {
    PfnnBatch batch;
    std::vector<Napi::Reference<Napi::Value>> keep;
  };

  // {x: (B, input) float32, phase: (B) float32 in [0, 1), y: (B, output) float32 when `targets`}.
  Borrowed ReadBatch(const Napi::CallbackInfo& info, const char* what, bool targets) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject())
      throw Napi::TypeError::New(env, std::string(what) + ": expected a batch {x, phase" + (targets ? ", y}" : "}"));
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

 public:
  // Its own calls, beside those every model shares; its constructor is the base's.
  static Properties Calls() {
    using B = PfnnBinding;
    return {InstanceMethod<&B::Step>("step"), InstanceMethod<&B::Evaluate>("evaluate"),
            InstanceMethod<&B::Forward>("forward")};
  }
  using ModelBinding::ModelBinding;
};

}  // namespace

void RegisterPfnn(Napi::Env env, Napi::Object exports) { PfnnBinding::Define(env, exports, "Pfnn"); }

}  // namespace torchmotion

// JS class `Evaluator`: the text–motion retrieval evaluator (evaluator.h), its AdamW optimiser, InfoNCE training
// steps, and embeddings of captions and motions for retrieval and the text-to-motion metrics.
#include "binding/exports.h"
#include "binding/model_binding.h"
#include "models/evaluator/evaluator.h"
#include "models/evaluator/step.h"
#include "train/gradient_probe.h"

namespace torchmotion {

namespace {

SequenceEncoderConfig ReadEncoder(const Napi::Object& o, const char* what, const std::string& side, int64_t input,
                                  int64_t max_len) {
  auto key = [&](const char* k) { return side + k; };
  SequenceEncoderConfig c;
  c.input = input;
  c.latent = RequiredInt(o, what, "latent", 2, 1 << 14);
  c.layers = RequiredInt(o, what, key("Layers").c_str(), 1, 64);
  c.heads = RequiredInt(o, what, "heads", 1, 64);
  c.ff = RequiredSize(o, what, "ff");
  c.dropout = RequiredNumber(o, what, "dropout", 0, 1);
  c.max_len = max_len;
  if (c.latent % c.heads != 0 || c.latent % 2 != 0) {
    throw Napi::RangeError::New(o.Env(), std::string(what) + ": latent " + std::to_string(c.latent) +
                                             " must be even and a multiple of heads " + std::to_string(c.heads));
  }
  return c;
}

}  // namespace

template <>
Evaluator MakeModule<Evaluator>(const Napi::Object& o, const char* what) {
  EvaluatorConfig c;
  c.text_vocab = RequiredInt(o, what, "textVocab", 0, 1 << 24);
  c.motion = ReadEncoder(o, what, "motion", RequiredSize(o, what, "motionDim"), RequiredSize(o, what, "maxFrames"));
  c.text = ReadEncoder(o, what, "text", RequiredSize(o, what, "textDim"), RequiredSize(o, what, "maxWords"));
  return Evaluator(c);
}

namespace {

// (B) int32 lengths in [1, L] of a right-padded side.
torch::Tensor ReadLengths(const Napi::Value& v, const char* name, int64_t B, int64_t L,
                          std::vector<Napi::Reference<Napi::Value>>& keep) {
  auto t = BorrowTensor(v, Spec(name, torch::kInt32, {B}, {""}));
  if (B > 0 && (t.tensor.min().item<int32_t>() < 1 || t.tensor.max().item<int32_t>() > L)) {
    throw Napi::RangeError::New(v.Env(), std::string(name) + ": every length must lie in [1, " + std::to_string(L) +
                                             "] (sequences are right-padded)");
  }
  keep.push_back(std::move(t.keep));
  return t.tensor.to(torch::kInt64);
}

Napi::Object BatchArg(const Napi::CallbackInfo& info, const char* what) {
  if (info.Length() < 1 || !info[0].IsObject())
    throw Napi::TypeError::New(info.Env(), std::string(what) + ": expected a batch object");
  return info[0].As<Napi::Object>();
}

class EvaluatorBinding : public ModelBinding<EvaluatorBinding, Evaluator> {
 public:
  // step({text, textLengths, motion, motionLengths, exclude: (B, B) Uint8Array}, {lr, clip, temperature, seed,
  // threads, inspectGradients}) → Promise<{loss, accuracy, gradNorm, nonFinite?, gradients?}>.
  Napi::Value Step(const Napi::CallbackInfo& info) {
    return Call(info, "step", [&](const char* what, const Napi::Object& o) -> Napi::Value {
      auto batch = BatchArg(info, what);
      Side text = ReadText(batch), motion = ReadMotion(batch);
      const int64_t B = text.values.size(0);
      if (motion.values.size(0) != B) {
        throw Napi::RangeError::New(info.Env(), "motion: " + std::to_string(motion.values.size(0)) + " clips for " +
                                                    std::to_string(B) + " captions (pairs row for row)");
      }
      if (B < 2) throw Napi::RangeError::New(info.Env(), "Evaluator.step: InfoNCE needs at least 2 pairs in a batch");
      auto exclude = BorrowTensor(batch.Get("exclude"), Spec("exclude", torch::kBool, {B, B}, {"", ""}));
      EvaluatorStepArgs a;
      a.lr = RequiredNumber(o, what, "lr", 0, 10);
      a.clip = RequiredNumber(o, what, "clip", 0, 1e9);
      a.temperature = RequiredNumber(o, what, "temperature", 1e-4, 100);
      a.seed = static_cast<uint64_t>(RequiredNumber(o, what, "seed", 0, 9007199254740991.0));
      const bool inspect = BoolOption(o, "inspectGradients", false);
      EvaluatorBatch b{text.values, text.lengths, motion.values, motion.lengths, exclude.tensor};
      std::vector<Napi::Reference<Napi::Value>> keep = std::move(text.keep);
      for (auto& k : motion.keep) keep.push_back(std::move(k));
      keep.push_back(std::move(exclude.keep));
      return Run(info.Env(), what, ThreadOption(o, true), std::move(keep), [=]() -> ToJs {
        std::vector<torch::Tensor> seen;
        InspectGradients watch(*optimizer_, inspect ? &seen : nullptr);
        EvaluatorStepResult r = EvaluatorTrainStep(model_, *optimizer_, b, device_, a);
        return StepReportToJs(
            {{{"loss", r.loss}, {"accuracy", r.accuracy}, {"gradNorm", r.grad_norm}}, r.non_finite, std::move(seen)});
      });
    });
  }

  // embedText({text, textLengths}) → (B, latent) float32 unit rows (eval mode, no gradients).
  Napi::Value EmbedText(const Napi::CallbackInfo& info) {
    return Call(info, "embedText", [&](const char* what, const Napi::Object& o) -> Napi::Value {
      Side s = ReadText(BatchArg(info, what));
      torch::Tensor values = s.values, lengths = s.lengths;
      return Run(info.Env(), what, ThreadOption(o, false), std::move(s.keep), [=]() -> ToJs {
        torch::NoGradGuard no_grad;
        model_->eval();
        return TensorResult(model_->embed_text(values.to(device_), lengths.to(device_)).to(torch::kFloat32).cpu());
      });
    });
  }

  // embedMotion({motion, motionLengths}) → (B, latent) float32 unit rows (eval mode, no gradients); a clip holding
  // NaN or Inf is refused, naming its row.
  Napi::Value EmbedMotion(const Napi::CallbackInfo& info) {
    return Call(info, "embedMotion", [&](const char* what, const Napi::Object& o) -> Napi::Value {
      Side s = ReadMotion(BatchArg(info, what));
      torch::Tensor values = s.values, lengths = s.lengths;
      return Run(info.Env(), what, ThreadOption(o, false), std::move(s.keep), [=]() -> ToJs {
        auto finite = torch::isfinite(values).flatten(1).all(1);
        if (!finite.all().item<bool>()) {
          throw std::runtime_error("motion: clip " + std::to_string(finite.logical_not().nonzero()[0].item<int64_t>()) +
                                   " of the batch holds NaN or Inf");
        }
        torch::NoGradGuard no_grad;
        model_->eval();
        return TensorResult(model_->embed_motion(values.to(device_), lengths.to(device_)).to(torch::kFloat32).cpu());
      });
    });
  }

 private:
  struct Side {
    torch::Tensor values, lengths;
    std::vector<Napi::Reference<Napi::Value>> keep;
  };

  // {text: (B, Lt) int32 word ids or (B, Lt, textDim) float32 embeddings, textLengths: (B) int32}, right-padded.
  Side ReadText(const Napi::Object& o) {
    Side s;
    const auto& c = model_->config();
    const bool ids = model_->builtin_text();
    auto text =
        BorrowTensor(o.Get("text"), ids ? Spec("text", torch::kInt32, {-1, -1}, {"B", "Lt"})
                                        : Spec("text", torch::kFloat32, {-1, -1, c.text.input}, {"B", "Lt", ""}));
    const int64_t B = text.tensor.size(0), L = text.tensor.size(1);
    if (L > c.text.max_len) {
      throw Napi::RangeError::New(o.Env(), "text: " + std::to_string(L) + " slots, but the evaluator reads at most " +
                                               std::to_string(c.text.max_len));
    }
    if (ids && text.tensor.numel() > 0 &&
        (text.tensor.min().item<int32_t>() < 0 || text.tensor.max().item<int32_t>() >= c.text_vocab)) {
      throw Napi::RangeError::New(o.Env(), "text: every word id must lie in [0, " + std::to_string(c.text_vocab) + ")");
    }
    s.values = ids ? text.tensor.to(torch::kInt64) : text.tensor;
    s.keep.push_back(std::move(text.keep));
    s.lengths = ReadLengths(o.Get("textLengths"), "textLengths", B, L, s.keep);
    return s;
  }

  // {motion: (B, T, 272) float32 normalised, motionLengths: (B) int32}, right-padded.
  Side ReadMotion(const Napi::Object& o) {
    Side s;
    const auto& c = model_->config().motion;
    auto motion = BorrowTensor(o.Get("motion"), Spec("motion", torch::kFloat32, {-1, -1, c.input}, {"B", "T", ""}));
    const int64_t B = motion.tensor.size(0), T = motion.tensor.size(1);
    if (T > c.max_len) {
      throw Napi::RangeError::New(o.Env(), "motion: " + std::to_string(T) +
                                               " frames, but the evaluator reads at most " + std::to_string(c.max_len) +
                                               ": crop the clip");
    }
    s.values = motion.tensor;
    s.keep.push_back(std::move(motion.keep));
    s.lengths = ReadLengths(o.Get("motionLengths"), "motionLengths", B, T, s.keep);
    return s;
  }

 public:
  // Its own calls, beside those every model shares; its constructor is the base's.
  static Properties Calls() {
    using B = EvaluatorBinding;
    return {InstanceMethod<&B::Step>("step"), InstanceMethod<&B::EmbedText>("embedText"),
            InstanceMethod<&B::EmbedMotion>("embedMotion")};
  }
  using ModelBinding::ModelBinding;
};

}  // namespace

void RegisterEvaluator(Napi::Env env, Napi::Object exports) { EvaluatorBinding::Define(env, exports, "Evaluator"); }

}  // namespace torchmotion

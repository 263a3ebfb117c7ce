#include "retrieval_wrap.h"

#include "args.h"
#include "device.h"
#include "gradient_probe.h"
#include "module_tables.h"
#include "retrieval_step.h"
#include "tensor_bridge.h"

namespace torchmotion {
namespace {

SequenceEncoderConfig ReadEncoder(const Napi::Object& o, const char* what, const std::string& side, int64_t input, int64_t max_len) {
  auto key = [&](const char* k) { return side + k; };
  SequenceEncoderConfig c;
  c.input = input;
  c.latent = RequiredInt(o, what, "latent", 2, 1 << 14);
  c.layers = RequiredInt(o, what, key("Layers").c_str(), 1, 64);
  c.heads = RequiredInt(o, what, "heads", 1, 64);
  c.ff = RequiredInt(o, what, "ff", 1, 1 << 16);
  c.dropout = RequiredNumber(o, what, "dropout", 0, 1);
  c.max_len = max_len;
  if (c.latent % c.heads != 0 || c.latent % 2 != 0) {
    throw Napi::RangeError::New(o.Env(), std::string(what) + ": latent " + std::to_string(c.latent) + " must be even and a multiple of heads " +
                                             std::to_string(c.heads));
  }
  return c;
}

// (B) int32 lengths in [1, L] of a right-padded side.
torch::Tensor ReadLengths(const Napi::Value& v, const char* name, int64_t B, int64_t L, std::vector<Napi::Reference<Napi::Value>>& keep) {
  auto t = BorrowTensor(v, Spec(name, torch::kInt32, {B}, {""}));
  if (B > 0 && (t.tensor.min().item<int32_t>() < 1 || t.tensor.max().item<int32_t>() > L)) {
    throw Napi::RangeError::New(v.Env(), std::string(name) + ": every length must lie in [1, " + std::to_string(L) + "] (sequences are right-padded)");
  }
  keep.push_back(std::move(t.keep));
  return t.tensor.to(torch::kInt64);
}

Napi::Object BatchArg(const Napi::CallbackInfo& info, const char* what) {
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(info.Env(), std::string(what) + ": expected a batch object");
  return info[0].As<Napi::Object>();
}

}  // namespace

void RetrievalWrap::Register(Napi::Env env, Napi::Object exports) {
  exports.Set("Evaluator", DefineClass(env, "Evaluator", {
    InstanceMethod<&RetrievalWrap::ParameterTable>("parameterTable"),
    InstanceMethod<&RetrievalWrap::StateDict>("stateDict"),
    InstanceMethod<&RetrievalWrap::LoadStateDict>("loadStateDict"),
    InstanceMethod<&RetrievalWrap::JoinProcessGroup>("joinProcessGroup"),
    InstanceMethod<&RetrievalWrap::Step>("step"),
    InstanceMethod<&RetrievalWrap::EmbedText>("embedText"),
    InstanceMethod<&RetrievalWrap::EmbedMotion>("embedMotion"),
    InstanceMethod<&RetrievalWrap::Save>("save"),
    InstanceMethod<&RetrievalWrap::Load>("load"),
  }));
}

RetrievalWrap::RetrievalWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RetrievalWrap>(info) {
  Napi::Env env = info.Env();
  Guarded(env, [&] {
    auto o = OptionsArg(info, 0, "Evaluator");
    const char* what = "Evaluator";
    RetrievalConfig c;
    c.text_vocab = RequiredInt(o, what, "textVocab", 0, 1 << 24);
    c.motion = ReadEncoder(o, what, "motion", RequiredInt(o, what, "motionDim", 1, 1 << 16), RequiredInt(o, what, "maxFrames", 1, 1 << 16));
    c.text = ReadEncoder(o, what, "text", RequiredInt(o, what, "textDim", 1, 1 << 16), RequiredInt(o, what, "maxWords", 1, 1 << 16));
    torch::manual_seed(static_cast<uint64_t>(RequiredInt(o, what, "seed", 0, 2147483647)));
    device_ = ParseDevice(StringOption(o, "device", "cpu"));
    model_ = RetrievalModel(c);
    model_->to(device_);
    optimizer_ = std::make_unique<FlatAdamW>(model_->parameters(), RequiredAdamW(o, what));
    return env.Undefined();
  });
}

// {text: (B, Lt) int32 word ids or (B, Lt, textDim) float32 embeddings, textLengths: (B) int32}, right-padded.
RetrievalWrap::Side RetrievalWrap::ReadText(const Napi::Object& o) {
  Side s;
  const auto& c = model_->config();
  const bool ids = model_->builtin_text();
  auto text = BorrowTensor(o.Get("text"), ids ? Spec("text", torch::kInt32, {-1, -1}, {"B", "Lt"})
                                               : Spec("text", torch::kFloat32, {-1, -1, c.text.input}, {"B", "Lt", ""}));
  const int64_t B = text.tensor.size(0), L = text.tensor.size(1);
  if (L > c.text.max_len) {
    throw Napi::RangeError::New(o.Env(), "text: " + std::to_string(L) + " slots, but the evaluator reads at most " + std::to_string(c.text.max_len));
  }
  if (ids && text.tensor.numel() > 0 && (text.tensor.min().item<int32_t>() < 0 || text.tensor.max().item<int32_t>() >= c.text_vocab)) {
    throw Napi::RangeError::New(o.Env(), "text: every word id must lie in [0, " + std::to_string(c.text_vocab) + ")");
  }
  s.values = ids ? text.tensor.to(torch::kInt64) : text.tensor;
  s.keep.push_back(std::move(text.keep));
  s.lengths = ReadLengths(o.Get("textLengths"), "textLengths", B, L, s.keep);
  return s;
}

// {motion: (B, T, 272) float32 normalised, motionLengths: (B) int32}, right-padded.
RetrievalWrap::Side RetrievalWrap::ReadMotion(const Napi::Object& o) {
  Side s;
  const auto& c = model_->config().motion;
  auto motion = BorrowTensor(o.Get("motion"), Spec("motion", torch::kFloat32, {-1, -1, c.input}, {"B", "T", ""}));
  const int64_t B = motion.tensor.size(0), T = motion.tensor.size(1);
  if (T > c.max_len) {
    throw Napi::RangeError::New(o.Env(), "motion: " + std::to_string(T) + " frames, but the evaluator reads at most " + std::to_string(c.max_len) +
                                             ": crop the clip");
  }
  s.values = motion.tensor;
  s.keep.push_back(std::move(motion.keep));
  s.lengths = ReadLengths(o.Get("motionLengths"), "motionLengths", B, T, s.keep);
  return s;
}

Napi::Value RetrievalWrap::ParameterTable(const Napi::CallbackInfo& info) { return ParameterTableToJs(info.Env(), *model_); }

// loadStateDict(tensors, {partial}): an imported checkpoint's weights (model_call.h).
Napi::Value RetrievalWrap::JoinProcessGroup(const Napi::CallbackInfo& info) {
  return JoinGroupCall(info, busy_, "Evaluator.joinProcessGroup", *model_, optimizer_.get());
}

Napi::Value RetrievalWrap::LoadStateDict(const Napi::CallbackInfo& info) {
  return LoadStateDictCall(info, busy_, "Evaluator.loadStateDict", *model_);
}

Napi::Value RetrievalWrap::StateDict(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value { return StateDictToJs(env, *model_); });
}

// step({text, textLengths, motion, motionLengths, exclude: (B, B) Uint8Array}, {lr, clip, temperature, seed, threads,
// inspectGradients}) → Promise<{loss, accuracy, gradNorm, nonFinite?, gradients?}>.
Napi::Value RetrievalWrap::Step(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value {
    const char* what = "Evaluator.step";
    auto batch = BatchArg(info, what);
    auto o = OptionsArg(info, 1, what);
    Side text = ReadText(batch), motion = ReadMotion(batch);
    const int64_t B = text.values.size(0);
    if (motion.values.size(0) != B) {
      throw Napi::RangeError::New(env, "motion: " + std::to_string(motion.values.size(0)) + " clips for " + std::to_string(B) + " captions (pairs row for row)");
    }
    if (B < 2) throw Napi::RangeError::New(env, "Evaluator.step: InfoNCE needs at least 2 pairs in a batch");
    auto exclude = BorrowTensor(batch.Get("exclude"), Spec("exclude", torch::kBool, {B, B}, {"", ""}));
    RetrievalStepArgs a;
    a.lr = RequiredNumber(o, what, "lr", 0, 10);
    a.clip = RequiredNumber(o, what, "clip", 0, 1e9);
    a.temperature = RequiredNumber(o, what, "temperature", 1e-4, 100);
    a.seed = static_cast<uint64_t>(RequiredNumber(o, what, "seed", 0, 9007199254740991.0));
    const bool inspect = BoolOption(o, "inspectGradients", false);
    RetrievalBatch b{text.values, text.lengths, motion.values, motion.lengths, exclude.tensor};
    std::vector<Napi::Reference<Napi::Value>> keep = std::move(text.keep);
    for (auto& k : motion.keep) keep.push_back(std::move(k));
    keep.push_back(std::move(exclude.keep));
    return RunModelCall(env, Value(), busy_, what, ThreadOption(o, true), std::move(keep), [=]() -> ToJs {
      std::vector<torch::Tensor> seen;
      InspectGradients watch(*optimizer_, inspect ? &seen : nullptr);
      RetrievalStepResult r = RetrievalTrainStep(model_, *optimizer_, b, device_, a);
      std::string non_finite = r.non_finite;
      return [r, seen, non_finite](Napi::Env e) -> Napi::Value {
        auto out = Napi::Object::New(e);
        out.Set("loss", r.loss);
        out.Set("accuracy", r.accuracy);
        out.Set("gradNorm", r.grad_norm);
        if (!non_finite.empty()) out.Set("nonFinite", non_finite);
        if (!seen.empty()) out.Set("gradients", TensorListToJs(e, seen));
        return out;
      };
    });
  });
}

// embedText({text, textLengths}) → (B, latent) float32 unit rows (eval mode, no gradients).
Napi::Value RetrievalWrap::EmbedText(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value {
    const char* what = "Evaluator.embedText";
    Side s = ReadText(BatchArg(info, what));
    torch::Tensor values = s.values, lengths = s.lengths;
    return RunModelCall(env, Value(), busy_, what, ThreadOption(OptionsArg(info, 1, what), false), std::move(s.keep), [=]() -> ToJs {
      torch::NoGradGuard no_grad;
      model_->eval();
      auto out = model_->embed_text(values.to(device_), lengths.to(device_)).to(torch::kFloat32).cpu();
      return [out](Napi::Env e) -> Napi::Value { return CopyTensorToJs(e, out); };
    });
  });
}

// embedMotion({motion, motionLengths}) → (B, latent) float32 unit rows (eval mode, no gradients); a clip holding
// NaN or Inf is refused, naming its row.
Napi::Value RetrievalWrap::EmbedMotion(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value {
    const char* what = "Evaluator.embedMotion";
    Side s = ReadMotion(BatchArg(info, what));
    torch::Tensor values = s.values, lengths = s.lengths;
    return RunModelCall(env, Value(), busy_, what, ThreadOption(OptionsArg(info, 1, what), false), std::move(s.keep), [=]() -> ToJs {
      auto finite = torch::isfinite(values).flatten(1).all(1);
      if (!finite.all().item<bool>()) {
        throw std::runtime_error("motion: clip " + std::to_string(finite.logical_not().nonzero()[0].item<int64_t>()) + " of the batch holds NaN or Inf");
      }
      torch::NoGradGuard no_grad;
      model_->eval();
      auto out = model_->embed_motion(values.to(device_), lengths.to(device_)).to(torch::kFloat32).cpu();
      return [out](Napi::Env e) -> Napi::Value { return CopyTensorToJs(e, out); };
    });
  });
}

Napi::Value RetrievalWrap::Save(const Napi::CallbackInfo& info) {
  return CheckpointCall(info, Value(), busy_, "Evaluator.save", true, *model_, optimizer_.get(), device_);
}

Napi::Value RetrievalWrap::Load(const Napi::CallbackInfo& info) {
  return CheckpointCall(info, Value(), busy_, "Evaluator.load", false, *model_, optimizer_.get(), device_);
}

}  // namespace torchmotion

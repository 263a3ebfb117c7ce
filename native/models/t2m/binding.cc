// JS class `T2M`: the LLaMA-style decoder (with the optional built-in text encoder), its AdamW optimiser,
// training steps with gradient accumulation, held-out loss, logits for golden tests, and generation with or without a
// KV cache.
#include "binding/exports.h"
#include "binding/model_binding.h"
#include "models/t2m/sampling.h"
#include "models/t2m/step.h"
#include "models/t2m/transformer.h"
#include "train/gradient_probe.h"

namespace torchmotion {

template <>
T2M MakeModule<T2M>(const Napi::Object& o, const char* what) {
  DecoderConfig c;
  c.vocab = RequiredInt(o, what, "vocab", 3, 1 << 24);
  c.dim = RequiredInt(o, what, "dim", 8, 1 << 16);
  c.layers = RequiredInt(o, what, "layers", 1, 1024);
  c.heads = RequiredInt(o, what, "heads", 1, 1024);
  c.hidden = RequiredInt(o, what, "hidden", 1, 1 << 20);
  c.text_dim = RequiredSize(o, what, "textDim");
  c.max_len = RequiredInt(o, what, "maxLen", 2, 1 << 16);
  c.rope_base = RequiredNumber(o, what, "ropeBase", 1, 1e9);
  const std::string dtype = RequiredString(o, what, "dtype");
  if (dtype != "float32" && dtype != "bfloat16")
    throw Napi::TypeError::New(o.Env(), "T2M: dtype must be float32 or bfloat16, not " + dtype);
  c.dtype = dtype == "bfloat16" ? torch::kBFloat16 : torch::kFloat32;
  TextEncoderConfig t;
  t.vocab = RequiredInt(o, what, "textVocab", 0, 1 << 24);
  t.dim = c.text_dim;
  t.layers = RequiredInt(o, what, "textLayers", 1, 64);
  t.heads = RequiredInt(o, what, "textHeads", 1, 64);
  t.max_len = RequiredInt(o, what, "textMaxLen", 1, 4096);
  return T2M(c, t);
}

namespace {

class T2MBinding : public ModelBinding<T2MBinding, T2M> {
 public:
  // step(batch, {lr, clip, update, lossScale, autocast, recompute, threads, inspectGradients}) →
  // Promise<{loss, accuracy, tokens, gradNorm, gradients?}> (step.h); `inspectGradients` returns the flat gradients
  // as the gradient hook saw them on an update step (before clipping and the update).
  Napi::Value Step(const Napi::CallbackInfo& info) {
    return Call(info, "step", [&](const char* what, const Napi::Object& o) -> Napi::Value {
      if (!optimizer_) {
        throw Napi::TypeError::New(
            info.Env(), std::string(what) +
                            ": a bfloat16 model only generates (no optimiser): make it with dtype float32 to train");
      }
      Batch b = ReadBatch(info[0], true);
      T2MStepArgs a;
      a.lr = RequiredNumber(o, what, "lr", 0, 10);
      a.clip = RequiredNumber(o, what, "clip", 0, 1e9);
      a.loss_scale = RequiredNumber(o, what, "lossScale", 0, 1e6);
      a.update = RequiredBool(o, what, "update");
      a.recompute = RequiredBool(o, what, "recompute");
      a.autocast = RequiredString(o, what, "autocast") == "bf16" && device_.is_cuda();
      bool inspect = BoolOption(o, "inspectGradients", false);
      torch::Tensor text = b.text, lengths = b.lengths, codes = b.codes;
      return Run(info.Env(), what, ThreadOption(o, true), std::move(b.keep), [=]() -> ToJs {
        std::vector<torch::Tensor> seen;
        InspectGradients watch(*optimizer_, inspect ? &seen : nullptr);
        T2MStepResult r = T2MTrainStep(model_, *optimizer_, text, lengths, codes, device_, a);
        return StepReportToJs(
            {{{"loss", r.loss}, {"accuracy", r.accuracy}, {"tokens", r.tokens}, {"gradNorm", r.grad_norm}},
             r.non_finite,
             std::move(seen)});
      });
    });
  }

  // evaluate(batch, {autocast, threads}) → Promise<{loss, accuracy, tokens}>: the training loss on a held-out batch
  // (no gradients, no update).
  Napi::Value Evaluate(const Napi::CallbackInfo& info) {
    return Call(info, "evaluate", [&](const char* what, const Napi::Object& o) -> Napi::Value {
      Batch b = ReadBatch(info[0], true);
      const bool autocast = RequiredString(o, what, "autocast") == "bf16" && device_.is_cuda();
      torch::Tensor text = b.text, lengths = b.lengths, codes = b.codes;
      return Run(info.Env(), what, ThreadOption(o, false), std::move(b.keep), [=]() -> ToJs {
        T2MEvalResult r = T2MEvaluate(model_, text, lengths, codes, device_, autocast);
        return StepReportToJs({{{"loss", r.loss}, {"accuracy", r.accuracy}, {"tokens", r.tokens}}, "", {}});
      });
    });
  }

  // logits(batch) → (B, Lc, vocab − 1): the prediction for each code slot (for golden tests and analysis).
  Napi::Value Logits(const Napi::CallbackInfo& info) {
    return Call(info, "logits", [&](const char* what, const Napi::Object& o) -> Napi::Value {
      Batch b = ReadBatch(info[0], true);
      torch::Tensor text = b.text, lengths = b.lengths, codes = b.codes;
      return Run(info.Env(), what, ThreadOption(o, false), std::move(b.keep), [=]() -> ToJs {
        model_->eval();
        const int64_t Lt = text.size(1), Lc = codes.size(1);
        torch::Tensor h = model_->hidden(text.to(device_), lengths, codes.to(device_).narrow(1, 0, Lc - 1));
        return TensorResult(model_->head(h.narrow(1, Lt - 1, Lc)).to(torch::kFloat32).cpu());
      });
    });
  }

  // generate(batch, {maxTokens, temperature, topK, topP, cfgScale, seed, cache, threads}) → {tokens (B, maxTokens)
  // int32 padded with PAD, lengths (B) int32}. With cfgScale > 0 the batch holds B conditional then B unconditional
  // prompts.
  Napi::Value Generate(const Napi::CallbackInfo& info) {
    return Call(info, "generate", [&](const char* what, const Napi::Object& o) -> Napi::Value {
      Batch b = ReadBatch(info[0], false);
      SamplingOptions s;
      s.temperature = RequiredNumber(o, what, "temperature", 0, 100);
      s.top_k = RequiredInt(o, what, "topK", 0, 1 << 24);
      s.top_p = RequiredNumber(o, what, "topP", 0, 1);
      s.min_tokens = RequiredInt(o, what, "minTokens", 0, 1 << 16);
      double cfg = RequiredNumber(o, what, "cfgScale", 0, 100);
      int max_tokens = RequiredSize(o, what, "maxTokens");
      bool use_cache = RequiredBool(o, what, "cache");
      uint64_t seed = static_cast<uint64_t>(RequiredInt(o, what, "seed", 0, 2147483647));
      if (cfg > 0 && b.text.size(0) % 2 != 0) {
        throw Napi::TypeError::New(
            info.Env(), "generate: with cfgScale the batch must hold B conditional then B unconditional prompts");
      }
      torch::Tensor text = b.text, lengths = b.lengths;
      return Run(info.Env(), what, ThreadOption(o, false), std::move(b.keep), [=]() -> ToJs {
        model_->eval();
        GenerationResult r = GenerateTokens(*model_, text.to(device_), lengths, max_tokens, s, cfg, seed, use_cache);
        return TensorFieldsResult(
            {{"tokens", r.tokens.to(torch::kInt32).cpu()}, {"lengths", r.lengths.to(torch::kInt32).cpu()}});
      });
    });
  }

 private:
  struct Batch {
    torch::Tensor text, lengths, codes;
    std::vector<Napi::Reference<Napi::Value>> keep;
  };

  // {text: (B,Lt,textDim) float32 embeddings or (B,Lt) int32 word ids, textLengths: (B) int32, codes: (B,Lc) int32}
  Batch ReadBatch(const Napi::Value& v, bool need_codes) {
    Napi::Env env = v.Env();
    if (!v.IsObject())
      throw Napi::TypeError::New(env,
                                 "batch: expected {text, textLengths" + std::string(need_codes ? ", codes}" : "}"));
    auto o = v.As<Napi::Object>();
    Batch b;
    const bool ids = model_->builtin_text();
    auto text = BorrowTensor(o.Get("text"),
                             ids ? Spec("text", torch::kInt32, {-1, -1}, {"B", "Lt"})
                                 : Spec("text", torch::kFloat32, {-1, -1, model_->config().text_dim}, {"B", "Lt", ""}));
    const int64_t B = text.tensor.size(0), Lt = text.tensor.size(1);
    auto lengths = BorrowTensor(o.Get("textLengths"), Spec("textLengths", torch::kInt32, {B}, {""}));
    if (lengths.tensor.numel() > 0 &&
        (lengths.tensor.min().item<int32_t>() < 1 || lengths.tensor.max().item<int32_t>() > Lt)) {
      throw Napi::RangeError::New(env, "textLengths: every length must lie in [1, " + std::to_string(Lt) +
                                           "] (captions are left-padded to Lt)");
    }
    b.text = ids ? text.tensor.to(torch::kInt64) : text.tensor;
    b.lengths = lengths.tensor;
    b.keep.push_back(std::move(text.keep));
    b.keep.push_back(std::move(lengths.keep));
    if (need_codes) {
      auto codes = BorrowTensor(o.Get("codes"), Spec("codes", torch::kInt32, {B, -1}, {"", "Lc"}));
      const int64_t V = model_->config().vocab;
      if (codes.tensor.numel() > 0 &&
          (codes.tensor.min().item<int32_t>() < 0 || codes.tensor.max().item<int32_t>() >= V)) {
        throw Napi::RangeError::New(env, "codes: every token must lie in [0, " + std::to_string(V) +
                                             ") (codes, END = " + std::to_string(V - 2) +
                                             ", PAD = " + std::to_string(V - 1) + ")");
      }
      b.codes = codes.tensor.to(torch::kInt64);
      b.keep.push_back(std::move(codes.keep));
    }
    return b;
  }

 public:
  // Its own calls, beside those every model shares; its constructor is the base's.
  static Properties Calls() {
    using B = T2MBinding;
    return {InstanceMethod<&B::Step>("step"), InstanceMethod<&B::Evaluate>("evaluate"),
            InstanceMethod<&B::Logits>("logits"), InstanceMethod<&B::Generate>("generate")};
  }
  using ModelBinding::ModelBinding;
};

}  // namespace

void RegisterT2M(Napi::Env env, Napi::Object exports) { T2MBinding::Define(env, exports, "T2M"); }

}  // namespace torchmotion

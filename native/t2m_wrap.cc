#include "t2m_wrap.h"

#include "args.h"
#include "device.h"
#include "head_loss.h"
#include "module_tables.h"
#include "sampling.h"
#include "tensor_bridge.h"

namespace torchmotion {

void T2MWrap::Register(Napi::Env env, Napi::Object exports) {
  exports.Set("TextToMotion", DefineClass(env, "TextToMotion", {
    InstanceMethod<&T2MWrap::ParameterTable>("parameterTable"),
    InstanceMethod<&T2MWrap::StateDict>("stateDict"),
    InstanceMethod<&T2MWrap::Step>("step"),
    InstanceMethod<&T2MWrap::Logits>("logits"),
    InstanceMethod<&T2MWrap::Generate>("generate"),
    InstanceMethod<&T2MWrap::Save>("save"),
    InstanceMethod<&T2MWrap::Load>("load"),
  }));
}

T2MWrap::T2MWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<T2MWrap>(info) {
  Napi::Env env = info.Env();
  Guarded(env, [&] {
    auto o = OptionsArg(info, 0, "TextToMotion");
    DecoderConfig c;
    c.vocab = IntOption(o, "vocab", 64002, 3, 1 << 24);
    c.dim = IntOption(o, "dim", 512, 8, 1 << 16);
    c.layers = IntOption(o, "layers", 8, 1, 1024);
    c.heads = IntOption(o, "heads", 8, 1, 1024);
    c.hidden = IntOption(o, "hidden", 1536, 1, 1 << 20);
    c.text_dim = IntOption(o, "textDim", 2048, 1, 1 << 16);
    c.max_len = IntOption(o, "maxLen", 512, 2, 1 << 16);
    c.rope_base = NumberOption(o, "ropeBase", 10000, 1, 1e9);
    TextEncoderConfig t;
    t.vocab = IntOption(o, "textVocab", 0, 0, 1 << 24);
    t.dim = c.text_dim;
    t.layers = IntOption(o, "textLayers", 2, 1, 64);
    t.heads = IntOption(o, "textHeads", 4, 1, 64);
    t.max_len = IntOption(o, "textMaxLen", 64, 1, 4096);
    torch::manual_seed(static_cast<uint64_t>(IntOption(o, "seed", 0, 0, 2147483647)));
    device_ = ParseDevice(StringOption(o, "device", "cpu"));
    model_ = T2MDecoder(c, t);
    model_->to(device_);
    optimizer_ = std::make_unique<FlatAdamW>(model_->parameters(),
        torch::optim::AdamWOptions(NumberOption(o, "lr", 4e-4, 0, 10))
            .betas(std::make_tuple(NumberOption(o, "beta1", 0.9, 0, 1), NumberOption(o, "beta2", 0.95, 0, 1)))
            .weight_decay(NumberOption(o, "weightDecay", 1e-6, 0, 10)).eps(NumberOption(o, "eps", 1e-6, 0, 1)));
    return env.Undefined();
  });
}

// {text: (B,Lt,textDim) float32 embeddings or (B,Lt) int32 word ids, textLengths: (B) int32, codes: (B,Lc) int32}
T2MWrap::Batch T2MWrap::ReadBatch(const Napi::Value& v, bool need_codes) {
  Napi::Env env = v.Env();
  if (!v.IsObject()) throw Napi::TypeError::New(env, "batch: expected {text, textLengths" + std::string(need_codes ? ", codes}" : "}"));
  auto o = v.As<Napi::Object>();
  Batch b;
  const bool ids = model_->builtin_text();
  auto text = BorrowTensor(o.Get("text"), ids ? Spec("text", torch::kInt32, {-1, -1}, {"B", "Lt"})
                                               : Spec("text", torch::kFloat32, {-1, -1, model_->config().text_dim}, {"B", "Lt", ""}));
  const int64_t B = text.tensor.size(0), Lt = text.tensor.size(1);
  auto lengths = BorrowTensor(o.Get("textLengths"), Spec("textLengths", torch::kInt32, {B}, {""}));
  if (lengths.tensor.numel() > 0 && (lengths.tensor.min().item<int32_t>() < 1 || lengths.tensor.max().item<int32_t>() > Lt)) {
    throw Napi::RangeError::New(env, "textLengths: every length must lie in [1, " + std::to_string(Lt) + "] (captions are left-padded to Lt)");
  }
  b.text = ids ? text.tensor.to(torch::kInt64) : text.tensor;
  b.lengths = lengths.tensor;
  b.keep.push_back(std::move(text.keep));
  b.keep.push_back(std::move(lengths.keep));
  if (need_codes) {
    auto codes = BorrowTensor(o.Get("codes"), Spec("codes", torch::kInt32, {B, -1}, {"", "Lc"}));
    const int64_t V = model_->config().vocab;
    if (codes.tensor.numel() > 0 && (codes.tensor.min().item<int32_t>() < 0 || codes.tensor.max().item<int32_t>() >= V)) {
      throw Napi::RangeError::New(env, "codes: every token must lie in [0, " + std::to_string(V) + ") (codes, END = " + std::to_string(V - 2) +
                                           ", PAD = " + std::to_string(V - 1) + ")");
    }
    b.codes = codes.tensor.to(torch::kInt64);
    b.keep.push_back(std::move(codes.keep));
  }
  return b;
}

Napi::Value T2MWrap::ParameterTable(const Napi::CallbackInfo& info) { return ParameterTableToJs(info.Env(), *model_); }

Napi::Value T2MWrap::StateDict(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value { return StateDictToJs(env, *model_); });
}

// step(batch, {lr, clip, update, lossScale, autocast, recompute, threads}) → Promise<{loss, accuracy, tokens, gradNorm}>.
// The head and cross-entropy run only where a target exists (codes and END), never on padding or the text prefix,
// and a chunk of positions at a time (head_loss.h), so the 64,001-way logits never exist for the whole batch.
Napi::Value T2MWrap::Step(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value {
    auto o = OptionsArg(info, 1, "TextToMotion.step");
    Batch b = ReadBatch(info[0], true);
    double lr = NumberOption(o, "lr", 4e-4, 0, 10), clip = NumberOption(o, "clip", 0, 0, 1e9);
    double scale = NumberOption(o, "lossScale", 1.0, 0, 1e6);
    bool update = BoolOption(o, "update", true);
    bool recompute = BoolOption(o, "recompute", false);
    bool autocast = StringOption(o, "autocast", "none") == "bf16" && device_.is_cuda();
    torch::Tensor text = b.text, lengths = b.lengths, codes = b.codes;
    return RunModelCall(env, Value(), busy_, "TextToMotion.step", ThreadOption(o, true), std::move(b.keep), [=]() -> ToJs {
      model_->train();
      model_->set_recompute(recompute);
      optimizer_->PrepareGrads();
      const int64_t pad = model_->config().vocab - 1;
      torch::Tensor c = codes.to(device_);
      torch::Tensor h, rows, targets;
      {
        AutocastGuard amp(autocast, at::kBFloat16);
        const int64_t Lt = text.size(1), Lc = c.size(1);
        h = model_->hidden(text.to(device_), lengths, c.narrow(1, 0, Lc - 1));
        torch::Tensor valid = c.ne(pad);
        rows = h.narrow(1, Lt - 1, Lc).masked_select(valid.unsqueeze(-1)).view({-1, h.size(-1)});
        targets = c.masked_select(valid);
      }
      HeadLoss hl = ChunkedHeadLossBackward([this](const torch::Tensor& r) { return model_->head(r); }, rows, targets,
                                            model_->config().vocab - 1, scale, autocast);
      double grad_norm = 0;
      if (update) {
        if (clip > 0) grad_norm = optimizer_->ClipGradNorm(clip);
        optimizer_->SetLr(lr);
        optimizer_->step();
        optimizer_->ZeroGrad();
      }
      double l = hl.loss, n = static_cast<double>(targets.numel()), acc = static_cast<double>(hl.correct) / std::max(1.0, n);
      return [=](Napi::Env e) -> Napi::Value {
        auto r = Napi::Object::New(e);
        r.Set("loss", l);
        r.Set("accuracy", acc);
        r.Set("tokens", n);
        r.Set("gradNorm", grad_norm);
        return r;
      };
    });
  });
}

// logits(batch) → (B, Lc, vocab − 1): the prediction for each code slot (for golden tests and analysis).
Napi::Value T2MWrap::Logits(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value {
    auto o = OptionsArg(info, 1, "TextToMotion.logits");
    Batch b = ReadBatch(info[0], true);
    torch::Tensor text = b.text, lengths = b.lengths, codes = b.codes;
    return RunModelCall(env, Value(), busy_, "TextToMotion.logits", ThreadOption(o, false), std::move(b.keep), [=]() -> ToJs {
      model_->eval();
      const int64_t Lt = text.size(1), Lc = codes.size(1);
      torch::Tensor h = model_->hidden(text.to(device_), lengths, codes.to(device_).narrow(1, 0, Lc - 1));
      torch::Tensor logits = model_->head(h.narrow(1, Lt - 1, Lc)).to(torch::kFloat32).cpu();
      return [logits](Napi::Env e) -> Napi::Value { return CopyTensorToJs(e, logits); };
    });
  });
}

// generate(batch, {maxTokens, temperature, topK, topP, cfgScale, seed, cache, threads}) → {tokens (B, maxTokens) int32
// padded with PAD, lengths (B) int32}. With cfgScale > 0 the batch holds B conditional then B unconditional prompts.
Napi::Value T2MWrap::Generate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value {
    auto o = OptionsArg(info, 1, "TextToMotion.generate");
    Batch b = ReadBatch(info[0], false);
    SamplingOptions s;
    s.temperature = NumberOption(o, "temperature", 0, 0, 100);
    s.top_k = IntOption(o, "topK", 0, 0, 1 << 24);
    s.top_p = NumberOption(o, "topP", 1, 0, 1);
    s.min_tokens = IntOption(o, "minTokens", 0, 0, 1 << 16);
    double cfg = NumberOption(o, "cfgScale", 0, 0, 100);
    int max_tokens = IntOption(o, "maxTokens", 300, 1, 1 << 16);
    bool use_cache = BoolOption(o, "cache", true);
    uint64_t seed = static_cast<uint64_t>(IntOption(o, "seed", 0, 0, 2147483647));
    if (cfg > 0 && b.text.size(0) % 2 != 0) {
      throw Napi::TypeError::New(env, "generate: with cfgScale the batch must hold B conditional then B unconditional prompts");
    }
    torch::Tensor text = b.text, lengths = b.lengths;
    return RunModelCall(env, Value(), busy_, "TextToMotion.generate", ThreadOption(o, false), std::move(b.keep), [=]() -> ToJs {
      model_->eval();
      GenerationResult r = GenerateTokens(*model_, text.to(device_), lengths, max_tokens, s, cfg, seed, use_cache);
      torch::Tensor tokens = r.tokens.to(torch::kInt32).cpu(), lens = r.lengths.to(torch::kInt32).cpu();
      return [tokens, lens](Napi::Env e) -> Napi::Value {
        auto out = Napi::Object::New(e);
        out.Set("tokens", CopyTensorToJs(e, tokens));
        out.Set("lengths", CopyTensorToJs(e, lens));
        return out;
      };
    });
  });
}

Napi::Value T2MWrap::Save(const Napi::CallbackInfo& info) {
  return CheckpointCall(info, Value(), busy_, "TextToMotion.save", true, *model_, *optimizer_, device_);
}

Napi::Value T2MWrap::Load(const Napi::CallbackInfo& info) {
  return CheckpointCall(info, Value(), busy_, "TextToMotion.load", false, *model_, *optimizer_, device_);
}

}  // namespace torchmotion

#include "tokenizer_wrap.h"

#include "args.h"
#include "device.h"
#include "module_tables.h"
#include "tensor_bridge.h"

namespace torchmotion {
namespace {

TensorSpec MotionSpec(const char* name, int64_t dim) { return Spec(name, torch::kFloat32, {-1, -1, dim}, {"B", "T", ""}); }

std::vector<int64_t> IntList(const Napi::Object& o, const char* key, std::vector<int64_t> fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsArray()) throw Napi::TypeError::New(o.Env(), std::string("option '") + key + "' must be an array of integers");
  std::vector<int64_t> out;
  auto a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value x = a.Get(i);
    double d = x.IsNumber() ? x.As<Napi::Number>().DoubleValue() : -1;
    if (!(d >= 1) || d != static_cast<int64_t>(d)) {
      throw Napi::TypeError::New(o.Env(), std::string("option '") + key + "' must hold positive integers");
    }
    out.push_back(static_cast<int64_t>(d));
  }
  return out;
}

Napi::Object LossesToJs(Napi::Env env, const std::vector<std::pair<const char*, double>>& values) {
  auto o = Napi::Object::New(env);
  for (const auto& [k, v] : values) o.Set(k, v);
  return o;
}

// exp(entropy) of the code histogram, counted with bincount (never a dense one-hot).
std::pair<double, int64_t> Perplexity(const torch::Tensor& codes, int64_t size) {
  torch::Tensor counts = torch::bincount(codes.reshape({-1}).to(torch::kCPU), {}, size).to(torch::kFloat64);
  torch::Tensor p = counts / counts.sum();
  double entropy = -(p * torch::log(p.clamp_min(1e-30))).sum().item<double>();
  return {std::exp(entropy), (counts > 0).sum().item<int64_t>()};
}

}  // namespace

// A (B, T, input_dim) float32 motion whose T the encoder's downsampling divides; the keep list gets its buffer.
torch::Tensor TokenizerWrap::BorrowMotion(const Napi::Value& v, std::vector<Napi::Reference<Napi::Value>>& keep) {
  auto x = BorrowTensor(v, MotionSpec("motion", model_->config().net.input_dim));
  if (x.tensor.size(1) % model_->downsampling() != 0) {
    throw Napi::TypeError::New(v.Env(), "motion: T = " + std::to_string(x.tensor.size(1)) + " frames is not a multiple of the tokenizer's downsampling (" +
                                            std::to_string(model_->downsampling()) + "): crop the clip");
  }
  keep.push_back(std::move(x.keep));
  return x.tensor;
}

void TokenizerWrap::Register(Napi::Env env, Napi::Object exports) {
  exports.Set("Tokenizer", DefineClass(env, "Tokenizer", {
    InstanceMethod<&TokenizerWrap::ParameterTable>("parameterTable"),
    InstanceMethod<&TokenizerWrap::StateDict>("stateDict"),
    InstanceMethod<&TokenizerWrap::Step>("step"),
    InstanceMethod<&TokenizerWrap::Reconstruct>("reconstruct"),
    InstanceMethod<&TokenizerWrap::Encode>("encode"),
    InstanceMethod<&TokenizerWrap::Decode>("decode"),
    InstanceMethod<&TokenizerWrap::Save>("save"),
    InstanceMethod<&TokenizerWrap::Load>("load"),
    InstanceAccessor<&TokenizerWrap::CodebookSize>("codebookSize"),
    InstanceAccessor<&TokenizerWrap::Downsampling>("downsampling"),
  }));
}

TokenizerWrap::TokenizerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TokenizerWrap>(info) {
  Napi::Env env = info.Env();
  Guarded(env, [&] {
    auto o = OptionsArg(info, 0, "Tokenizer");
    TokenizerConfig c;
    c.net.input_dim = IntOption(o, "inputDim", 272, 1, 1 << 16);
    c.net.width = IntOption(o, "width", 512, 1, 1 << 16);
    c.net.down_t = IntOption(o, "downT", 1, 0, 8);
    c.net.stride_t = IntOption(o, "strideT", 2, 1, 8);
    c.net.depth = IntOption(o, "depth", 3, 1, 64);
    c.net.dilation_growth = IntOption(o, "dilationGrowth", 3, 1, 16);
    std::string norm = StringOption(o, "norm", "LN");
    if (norm != "LN" && norm != "none") throw Napi::TypeError::New(env, "option 'norm' must be 'LN' or 'none'");
    c.net.layer_norm = norm == "LN";
    c.net.activation = StringOption(o, "activation", "relu");
    c.quantizer = StringOption(o, "quantizer", "fsq");
    c.levels = IntList(o, "levels", c.levels);
    c.codes = IntOption(o, "codes", 512, 2, 1 << 24);
    c.mu = NumberOption(o, "mu", 0.99, 0.0, 1.0);
    torch::manual_seed(static_cast<uint64_t>(IntOption(o, "seed", 0, 0, 2147483647)));
    device_ = ParseDevice(StringOption(o, "device", "cpu"));
    model_ = Tokenizer(c);
    model_->to(device_);
    auto betas = std::make_tuple(NumberOption(o, "beta1", 0.9, 0, 1), NumberOption(o, "beta2", 0.99, 0, 1));
    optimizer_ = std::make_unique<FlatAdamW>(model_->parameters(),
        torch::optim::AdamWOptions(NumberOption(o, "lr", 5e-5, 0, 10)).betas(betas)
            .weight_decay(NumberOption(o, "weightDecay", 0.0, 0, 10)).eps(NumberOption(o, "eps", 1e-8, 0, 1)));
    return env.Undefined();
  });
}

Napi::Value TokenizerWrap::ParameterTable(const Napi::CallbackInfo& info) { return ParameterTableToJs(info.Env(), *model_); }

Napi::Value TokenizerWrap::StateDict(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value { return StateDictToJs(env, *model_); });
}

// step(motion (B,T,272), {lr, clip, velWeight, commitBeta, autocast, threads, profile}) → Promise<losses>. `profile`
// names a file for LibTorch's trace of this step (Chrome trace JSON: every ATen op with its time).
Napi::Value TokenizerWrap::Step(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value {
    auto o = OptionsArg(info, 1, "Tokenizer.step");
    std::vector<Napi::Reference<Napi::Value>> keep;
    torch::Tensor tx = BorrowMotion(info[0], keep);
    double lr = NumberOption(o, "lr", 5e-5, 0, 10);
    double clip = NumberOption(o, "clip", 0, 0, 1e9);
    double vel = NumberOption(o, "velWeight", 0.5, 0, 1e6);
    double beta = NumberOption(o, "commitBeta", 0.02, 0, 1e6);
    bool autocast = StringOption(o, "autocast", "none") == "bf16" && device_.is_cuda();
    std::string profile = StringOption(o, "profile", "");
    if (!profile.empty() && !TM_HAS_RECORD_PROFILE) {
      throw Napi::TypeError::New(env, "option 'profile' needs LibTorch's legacy profiler (RecordProfile), which this LibTorch lacks");
    }
    return RunModelCall(env, Value(), busy_, "Tokenizer.step", ThreadOption(o, true), std::move(keep), [=]() -> ToJs {
#if TM_HAS_RECORD_PROFILE
      std::unique_ptr<torch::autograd::profiler::RecordProfile> trace;
      if (!profile.empty()) trace = std::make_unique<torch::autograd::profiler::RecordProfile>(profile);
#endif
      model_->train();
      optimizer_->SetLr(lr);
      torch::Tensor target = tx.to(device_);
      optimizer_->ZeroGrad();
      TokenizerLoss loss;
      TokenizerOutput out;
      {
        AutocastGuard amp(autocast, at::kBFloat16);
        out = model_->forward(target);
        loss = ComputeTokenizerLoss(out, target, vel, beta);
      }
      loss.total.backward();
      double grad_norm = clip > 0 ? optimizer_->ClipGradNorm(clip) : 0.0;
      optimizer_->step();
      auto [perplexity, used] = Perplexity(out.codes, model_->codebook_size());
      std::vector<std::pair<const char*, double>> values{
          {"loss", loss.total.item<double>()}, {"reconstruction", loss.reconstruction.item<double>()},
          {"positions", loss.positions.item<double>()}, {"commitment", loss.commitment.item<double>()},
          {"gradNorm", grad_norm}, {"perplexity", perplexity}, {"codesUsed", static_cast<double>(used)}};
      return [values](Napi::Env e) -> Napi::Value { return LossesToJs(e, values); };
    });
  });
}

// reconstruct(motion) → Promise<{reconstruction (B,T,272) float32, codes (B,T') int32}>, eval mode, no autograd.
Napi::Value TokenizerWrap::Reconstruct(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value {
    auto o = OptionsArg(info, 1, "Tokenizer.reconstruct");
    std::vector<Napi::Reference<Napi::Value>> keep;
    torch::Tensor tx = BorrowMotion(info[0], keep);
    return RunModelCall(env, Value(), busy_, "Tokenizer.reconstruct", ThreadOption(o, false), std::move(keep), [=]() -> ToJs {
      model_->eval();
      TokenizerOutput out = model_->forward(tx.to(device_));
      torch::Tensor recon = out.reconstruction.to(torch::kFloat32).cpu(), codes = out.codes.to(torch::kInt32).cpu();
      return [recon, codes](Napi::Env e) -> Napi::Value {
        auto r = Napi::Object::New(e);
        r.Set("reconstruction", CopyTensorToJs(e, recon));
        r.Set("codes", CopyTensorToJs(e, codes));
        return r;
      };
    });
  });
}

Napi::Value TokenizerWrap::Encode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value {
    auto o = OptionsArg(info, 1, "Tokenizer.encode");
    std::vector<Napi::Reference<Napi::Value>> keep;
    torch::Tensor tx = BorrowMotion(info[0], keep);
    return RunModelCall(env, Value(), busy_, "Tokenizer.encode", ThreadOption(o, false), std::move(keep), [=]() -> ToJs {
      model_->eval();
      torch::Tensor codes = model_->encode(tx.to(device_)).to(torch::kInt32).cpu();
      return [codes](Napi::Env e) -> Napi::Value { return CopyTensorToJs(e, codes); };
    });
  });
}

Napi::Value TokenizerWrap::Decode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value {
    auto o = OptionsArg(info, 1, "Tokenizer.decode");
    auto c = BorrowTensor(info[0], Spec("codes", torch::kInt32, {-1, -1}, {"B", "T'"}));
    int64_t size = model_->codebook_size();
    if (c.tensor.numel() > 0 && (c.tensor.min().item<int64_t>() < 0 || c.tensor.max().item<int64_t>() >= size)) {
      throw Napi::RangeError::New(env, "codes: every code must lie in [0, " + std::to_string(size) + ")");
    }
    std::vector<Napi::Reference<Napi::Value>> keep;
    keep.push_back(std::move(c.keep));
    torch::Tensor tc = c.tensor;
    return RunModelCall(env, Value(), busy_, "Tokenizer.decode", ThreadOption(o, false), std::move(keep), [=]() -> ToJs {
      model_->eval();
      torch::Tensor motion = model_->decode(tc.to(torch::kInt64).to(device_)).to(torch::kFloat32).cpu();
      return [motion](Napi::Env e) -> Napi::Value { return CopyTensorToJs(e, motion); };
    });
  });
}

Napi::Value TokenizerWrap::Save(const Napi::CallbackInfo& info) {
  return CheckpointCall(info, Value(), busy_, "Tokenizer.save", true, *model_, *optimizer_, device_);
}

Napi::Value TokenizerWrap::Load(const Napi::CallbackInfo& info) {
  return CheckpointCall(info, Value(), busy_, "Tokenizer.load", false, *model_, *optimizer_, device_);
}

Napi::Value TokenizerWrap::CodebookSize(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(model_->codebook_size()));
}

Napi::Value TokenizerWrap::Downsampling(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(model_->downsampling()));
}

}  // namespace torchmotion

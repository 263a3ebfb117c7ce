// JS class `Tokenizer`: the motion tokenizer with its AdamW optimiser; one native call per training step.
#include "binding/exports.h"
#include "binding/model_binding.h"
#include "models/tokenizer/step.h"
#include "models/tokenizer/tokenizer.h"
#include "train/gradient_probe.h"

namespace torchmotion {
namespace {

TensorSpec MotionSpec(const char* name, int64_t dim) { return Spec(name, torch::kFloat32, {-1, -1, dim}, {"B", "T", ""}); }

class TokenizerBinding : public ModelBinding<TokenizerBinding, Tokenizer> {
 public:
  explicit TokenizerBinding(const Napi::CallbackInfo& info);
  static void Register(Napi::Env env, Napi::Object exports) {
    Define(env, exports, "Tokenizer", {
        InstanceMethod<&TokenizerBinding::Step>("step"),
        InstanceMethod<&TokenizerBinding::Reconstruct>("reconstruct"),
        InstanceMethod<&TokenizerBinding::Encode>("encode"),
        InstanceMethod<&TokenizerBinding::Decode>("decode"),
        InstanceAccessor<&TokenizerBinding::CodebookSize>("codebookSize"),
        InstanceAccessor<&TokenizerBinding::Downsampling>("downsampling"),
    });
  }

 private:
  torch::Tensor BorrowMotion(const Napi::Value& v, std::vector<Napi::Reference<Napi::Value>>& keep);
  Napi::Value Step(const Napi::CallbackInfo& info);
  Napi::Value Reconstruct(const Napi::CallbackInfo& info);
  Napi::Value Encode(const Napi::CallbackInfo& info);
  Napi::Value Decode(const Napi::CallbackInfo& info);
  Napi::Value CodebookSize(const Napi::CallbackInfo& info);
  Napi::Value Downsampling(const Napi::CallbackInfo& info);
};

// A (B, T, input_dim) float32 motion whose T the encoder's downsampling divides; the keep list gets its buffer.
torch::Tensor TokenizerBinding::BorrowMotion(const Napi::Value& v, std::vector<Napi::Reference<Napi::Value>>& keep) {
  auto x = BorrowTensor(v, MotionSpec("motion", model_->config().net.input_dim));
  if (x.tensor.size(1) % model_->downsampling() != 0) {
    throw Napi::TypeError::New(v.Env(), "motion: T = " + std::to_string(x.tensor.size(1)) + " frames is not a multiple of the tokenizer's downsampling (" +
                                            std::to_string(model_->downsampling()) + "): crop the clip");
  }
  keep.push_back(std::move(x.keep));
  return x.tensor;
}

TokenizerBinding::TokenizerBinding(const Napi::CallbackInfo& info) : ModelBinding(info, "Tokenizer") {
  Napi::Env env = info.Env();
  Guarded(env, [&] {
    auto o = OptionsArg(info, 0, name_);
    const char* what = name_;
    TokenizerConfig c;
    c.net.input_dim = RequiredInt(o, what, "inputDim", 1, 1 << 16);
    c.net.width = RequiredInt(o, what, "width", 1, 1 << 16);
    c.net.down_t = RequiredInt(o, what, "downT", 0, 8);
    c.net.stride_t = RequiredInt(o, what, "strideT", 1, 8);
    c.net.depth = RequiredInt(o, what, "depth", 1, 64);
    c.net.dilation_growth = RequiredInt(o, what, "dilationGrowth", 1, 16);
    std::string norm = RequiredString(o, what, "norm");
    if (norm != "LN" && norm != "none") throw Napi::TypeError::New(env, "option 'norm' must be 'LN' or 'none'");
    c.net.layer_norm = norm == "LN";
    c.net.activation = RequiredString(o, what, "activation");
    c.quantizer = RequiredString(o, what, "quantizer");
    c.levels = RequiredIntList(o, what, "levels");
    c.codes = RequiredInt(o, what, "codes", 2, 1 << 24);
    c.mu = RequiredNumber(o, what, "mu", 0.0, 1.0);
    if (c.quantizer == "rvq") {
      c.layers = RequiredInt(o, what, "layers", 1, 64);
      c.quantizer_dropout = RequiredNumber(o, what, "quantizerDropout", 0.0, 1.0);
    }
    Build(o, [&] { return Tokenizer(c); });
    return env.Undefined();
  });
}

// step(motion (B,T,272), {lr, clip, velWeight, commitBeta, autocast, lossScale, update, threads, profile, inspectGradients})
// → Promise<losses>; with update false the micro-batch only accumulates gradients (gradNorm is NaN then). `profile` names a file for LibTorch's trace of this step (Chrome trace JSON: every ATen op with
// its time); `inspectGradients` returns the flat gradients as the gradient hook saw them (before clipping and update).
Napi::Value TokenizerBinding::Step(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value {
    auto o = OptionsArg(info, 1, "Tokenizer.step");
    const char* what = "Tokenizer.step";
    std::vector<Napi::Reference<Napi::Value>> keep;
    torch::Tensor tx = BorrowMotion(info[0], keep);
    TokenizerStepArgs a;
    a.lr = RequiredNumber(o, what, "lr", 0, 10);
    a.clip = RequiredNumber(o, what, "clip", 0, 1e9);
    a.vel_weight = RequiredNumber(o, what, "velWeight", 0, 1e6);
    a.commit_beta = RequiredNumber(o, what, "commitBeta", 0, 1e6);
    a.autocast = RequiredString(o, what, "autocast") == "bf16" && device_.is_cuda();
    a.loss_scale = RequiredNumber(o, what, "lossScale", 0, 1e6);
    a.update = RequiredBool(o, what, "update");
    std::string profile = StringOption(o, "profile", "");
    bool inspect = BoolOption(o, "inspectGradients", false);
    if (!profile.empty() && !TM_HAS_RECORD_PROFILE) {
      throw Napi::TypeError::New(env, "option 'profile' needs LibTorch's legacy profiler (RecordProfile), which this LibTorch lacks");
    }
    return Run(env, what, ThreadOption(o, true), std::move(keep), [=]() -> ToJs {
#if TM_HAS_RECORD_PROFILE
      std::unique_ptr<torch::autograd::profiler::RecordProfile> trace;
      if (!profile.empty()) trace = std::make_unique<torch::autograd::profiler::RecordProfile>(profile);
#endif
      std::vector<torch::Tensor> seen;
      InspectGradients watch(*optimizer_, inspect ? &seen : nullptr);
      TokenizerStepResult r = TokenizerTrainStep(model_, *optimizer_, tx, device_, a);
      StepReport report{{{"loss", r.loss}, {"reconstruction", r.reconstruction}, {"positions", r.positions},
                         {"commitment", r.commitment}, {"gradNorm", r.grad_norm}, {"perplexity", r.perplexity},
                         {"codesUsed", static_cast<double>(r.codes_used)}},
                        r.non_finite, std::move(seen)};
      if (model_->layers() > 0) report.values.push_back({"layersUsed", static_cast<double>(r.layers_used)});
      return StepReportToJs(std::move(report));
    });
  });
}

// reconstruct(motion) → Promise<{reconstruction (B,T,272) float32, codes (B,T') int32 ((B,T',Q) for RVQ)}>, eval
// mode (every RVQ layer), no autograd.
Napi::Value TokenizerBinding::Reconstruct(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value {
    auto o = OptionsArg(info, 1, "Tokenizer.reconstruct");
    std::vector<Napi::Reference<Napi::Value>> keep;
    torch::Tensor tx = BorrowMotion(info[0], keep);
    return Run(env, "Tokenizer.reconstruct", ThreadOption(o, false), std::move(keep), [=]() -> ToJs {
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

Napi::Value TokenizerBinding::Encode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value {
    auto o = OptionsArg(info, 1, "Tokenizer.encode");
    std::vector<Napi::Reference<Napi::Value>> keep;
    torch::Tensor tx = BorrowMotion(info[0], keep);
    return Run(env, "Tokenizer.encode", ThreadOption(o, false), std::move(keep), [=]() -> ToJs {
      model_->eval();
      torch::Tensor codes = model_->encode(tx.to(device_)).to(torch::kInt32).cpu();
      return [codes](Napi::Env e) -> Napi::Value { return CopyTensorToJs(e, codes); };
    });
  });
}

Napi::Value TokenizerBinding::Decode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return Guarded(env, [&]() -> Napi::Value {
    auto o = OptionsArg(info, 1, "Tokenizer.decode");
    // (B, T') codes, or (B, T', Q) for a residual quantizer: one code of every layer per step.
    const int64_t Q = model_->layers();
    auto c = BorrowTensor(info[0], Q > 0 ? Spec("codes", torch::kInt32, {-1, -1, Q}, {"B", "T'", ""})
                                          : Spec("codes", torch::kInt32, {-1, -1}, {"B", "T'"}));
    int64_t size = model_->codebook_size();
    if (c.tensor.numel() > 0 && (c.tensor.min().item<int64_t>() < 0 || c.tensor.max().item<int64_t>() >= size)) {
      throw Napi::RangeError::New(env, "codes: every code must lie in [0, " + std::to_string(size) + ")");
    }
    std::vector<Napi::Reference<Napi::Value>> keep;
    keep.push_back(std::move(c.keep));
    torch::Tensor tc = c.tensor;
    return Run(env, "Tokenizer.decode", ThreadOption(o, false), std::move(keep), [=]() -> ToJs {
      model_->eval();
      torch::Tensor motion = model_->decode(tc.to(torch::kInt64).to(device_)).to(torch::kFloat32).cpu();
      return [motion](Napi::Env e) -> Napi::Value { return CopyTensorToJs(e, motion); };
    });
  });
}

Napi::Value TokenizerBinding::CodebookSize(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(model_->codebook_size()));
}

Napi::Value TokenizerBinding::Downsampling(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(model_->downsampling()));
}

}  // namespace

void RegisterTokenizer(Napi::Env env, Napi::Object exports) { TokenizerBinding::Register(env, exports); }

}  // namespace torchmotion

// JS class `Tokenizer`: the motion tokenizer with its AdamW optimiser; one native call per training step.
#include "binding/exports.h"
#include "binding/model_binding.h"
#include "models/tokenizer/step.h"
#include "models/tokenizer/tokenizer.h"
#include "train/gradient_probe.h"

namespace torchmotion {

template <>
Tokenizer MakeModule<Tokenizer>(const Napi::Object& o, const char* what) {
  TokenizerConfig c;
  c.net.input_dim = RequiredSize(o, what, "inputDim");
  c.net.width = RequiredSize(o, what, "width");
  c.net.down_t = RequiredInt(o, what, "downT", 0, 8);
  c.net.stride_t = RequiredInt(o, what, "strideT", 1, 8);
  c.net.depth = RequiredInt(o, what, "depth", 1, 64);
  c.net.dilation_growth = RequiredInt(o, what, "dilationGrowth", 1, 16);
  std::string norm = RequiredString(o, what, "norm");
  if (norm != "LN" && norm != "none") throw Napi::TypeError::New(o.Env(), "option 'norm' must be 'LN' or 'none'");
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
  return Tokenizer(c);
}

namespace {

TensorSpec MotionSpec(const char* name, int64_t dim) {
  return Spec(name, torch::kFloat32, {-1, -1, dim}, {"B", "T", ""});
}

class TokenizerBinding : public ModelBinding<TokenizerBinding, Tokenizer> {
 public:
  // step(motion (B,T,272), {lr, clip, velWeight, commitBeta, autocast, lossScale, update, threads, profile,
  // inspectGradients}) → Promise<losses>; with update false the micro-batch only accumulates gradients (gradNorm is NaN
  // then). `profile` names a file for LibTorch's trace of this step (Chrome trace JSON: every ATen op with its time);
  // `inspectGradients` returns the flat gradients as the gradient hook saw them (before clipping and update).
  Napi::Value Step(const Napi::CallbackInfo& info) {
    return Call(info, "step", [&](const char* what, const Napi::Object& o) -> Napi::Value {
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
        throw Napi::TypeError::New(
            info.Env(), "option 'profile' needs LibTorch's legacy profiler (RecordProfile), which this LibTorch lacks");
      }
      return Run(info.Env(), what, ThreadOption(o, true), std::move(keep), [=]() -> ToJs {
#if TM_HAS_RECORD_PROFILE
        std::unique_ptr<torch::autograd::profiler::RecordProfile> trace;
        if (!profile.empty()) trace = std::make_unique<torch::autograd::profiler::RecordProfile>(profile);
#endif
        std::vector<torch::Tensor> seen;
        InspectGradients watch(*optimizer_, inspect ? &seen : nullptr);
        TokenizerStepResult r = TokenizerTrainStep(model_, *optimizer_, tx, device_, a);
        StepReport report{{{"loss", r.loss},
                           {"reconstruction", r.reconstruction},
                           {"positions", r.positions},
                           {"commitment", r.commitment},
                           {"gradNorm", r.grad_norm},
                           {"perplexity", r.perplexity},
                           {"codesUsed", static_cast<double>(r.codes_used)}},
                          r.non_finite,
                          std::move(seen)};
        if (model_->layers() > 0) report.values.push_back({"layersUsed", static_cast<double>(r.layers_used)});
        return StepReportToJs(std::move(report));
      });
    });
  }

  // reconstruct(motion) → Promise<{reconstruction (B,T,272) float32, codes (B,T') int32 ((B,T',Q) for RVQ)}>, eval
  // mode (every RVQ layer), no autograd.
  Napi::Value Reconstruct(const Napi::CallbackInfo& info) {
    return OnMotion(info, "reconstruct", [this](const torch::Tensor& x) {
      TokenizerOutput out = model_->forward(x);
      return TensorFieldsResult({{"reconstruction", out.reconstruction.to(torch::kFloat32).cpu()},
                                 {"codes", out.codes.to(torch::kInt32).cpu()}});
    });
  }

  // encode(motion) → Promise<codes (B,T') int32, (B,T',Q) for RVQ>.
  Napi::Value Encode(const Napi::CallbackInfo& info) {
    return OnMotion(info, "encode",
                    [this](const torch::Tensor& x) { return TensorResult(model_->encode(x).to(torch::kInt32).cpu()); });
  }

  // decode(codes) → Promise<motion (B,T,272) float32>.
  Napi::Value Decode(const Napi::CallbackInfo& info) {
    return Call(info, "decode", [&](const char* what, const Napi::Object& o) -> Napi::Value {
      // (B, T') codes, or (B, T', Q) for a residual quantizer: one code of every layer per step.
      const int64_t Q = model_->layers();
      auto c = BorrowTensor(info[0], Q > 0 ? Spec("codes", torch::kInt32, {-1, -1, Q}, {"B", "T'", ""})
                                           : Spec("codes", torch::kInt32, {-1, -1}, {"B", "T'"}));
      int64_t size = model_->codebook_size();
      if (c.tensor.numel() > 0 && (c.tensor.min().item<int64_t>() < 0 || c.tensor.max().item<int64_t>() >= size)) {
        throw Napi::RangeError::New(info.Env(), "codes: every code must lie in [0, " + std::to_string(size) + ")");
      }
      std::vector<Napi::Reference<Napi::Value>> keep;
      keep.push_back(std::move(c.keep));
      torch::Tensor tc = c.tensor;
      return Run(info.Env(), what, ThreadOption(o, false), std::move(keep), [=]() -> ToJs {
        model_->eval();
        return TensorResult(model_->decode(tc.to(torch::kInt64).to(device_)).to(torch::kFloat32).cpu());
      });
    });
  }

  Napi::Value CodebookSize(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(model_->codebook_size()));
  }

  Napi::Value Downsampling(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(model_->downsampling()));
  }

 private:
  // A (B, T, input_dim) float32 motion whose T the encoder's downsampling divides; the keep list gets its buffer.
  torch::Tensor BorrowMotion(const Napi::Value& v, std::vector<Napi::Reference<Napi::Value>>& keep) {
    auto x = BorrowTensor(v, MotionSpec("motion", model_->config().net.input_dim));
    if (x.tensor.size(1) % model_->downsampling() != 0) {
      throw Napi::TypeError::New(v.Env(), "motion: T = " + std::to_string(x.tensor.size(1)) +
                                              " frames is not a multiple of the tokenizer's downsampling (" +
                                              std::to_string(model_->downsampling()) + "): crop the clip");
    }
    keep.push_back(std::move(x.keep));
    return x.tensor;
  }

  // A call on one motion in eval mode, off the JS thread: fn(the motion on the device) gives the result.
  template <class F>
  Napi::Value OnMotion(const Napi::CallbackInfo& info, const char* call, F fn) {
    return Call(info, call, [&](const char* what, const Napi::Object& o) -> Napi::Value {
      std::vector<Napi::Reference<Napi::Value>> keep;
      torch::Tensor tx = BorrowMotion(info[0], keep);
      return Run(info.Env(), what, ThreadOption(o, false), std::move(keep), [=]() -> ToJs {
        model_->eval();
        return fn(tx.to(device_));
      });
    });
  }

 public:
  // Its own calls, beside those every model shares; its constructor is the base's.
  static Properties Calls() {
    using B = TokenizerBinding;
    return {InstanceMethod<&B::Step>("step"),
            InstanceMethod<&B::Reconstruct>("reconstruct"),
            InstanceMethod<&B::Encode>("encode"),
            InstanceMethod<&B::Decode>("decode"),
            InstanceAccessor<&B::CodebookSize>("codebookSize"),
            InstanceAccessor<&B::Downsampling>("downsampling")};
  }
  using ModelBinding::ModelBinding;
};

}  // namespace

void RegisterTokenizer(Napi::Env env, Napi::Object exports) { TokenizerBinding::Define(env, exports, "Tokenizer"); }

}  // namespace torchmotion

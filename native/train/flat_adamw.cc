#include "train/flat_adamw.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <ATen/Parallel.h>

#include "runtime/cpu_allocator.h"

namespace torchmotion {
namespace {

// Elements per pass of the operation-by-operation update on the CPU (dtypes other than fp32), which bounds the
// temporary denominator to 1 MB (a whole-buffer pass would add one parameter-sized buffer to peak memory). A GPU takes
// each buffer in one pass: launches are its cost.
constexpr int64_t kCpuChunk = int64_t{1} << 18;

torch::Tensor ViewOf(const torch::Tensor& flat, int64_t offset, const torch::Tensor& like) {
  return flat.narrow(0, offset, like.numel()).view(like.sizes());
}

bool StartsAt(const torch::Tensor& t, const torch::Tensor& flat, int64_t offset) {
  return t.defined() && t.is_contiguous() &&
         t.data_ptr() == static_cast<char*>(flat.data_ptr()) + offset * static_cast<int64_t>(flat.element_size());
}

struct AdamWStep {
  float lr_decay, beta1, beta2, bias2_sqrt, eps, step_size;
};

// The update for fp32 on the CPU in one pass over the four buffers: torch::optim::AdamW's operations, in its order,
// per element. As separate whole-buffer operations it was 8 passes, each a parallel region per 256k-element chunk:
// ~3 % of a two-thread tokenizer step's CPU time (perf, docs/benchmarks.md), the fused pass ~0.7 % (with its square
// roots vectorised: the build passes -fno-math-errno for this file). Each gradient is zeroed once read: its cache
// line is already here, while the next step's ZeroGrad would be another pass over the whole buffer (a 45 MB fill for
// the tokenizer, 3.5–4.6 ms of a two-thread step: tokenizer-profile.ts).
void FusedStep(float* __restrict p, float* __restrict g, float* __restrict m, float* __restrict v, int64_t n,
               const AdamWStep& a) {
  at::parallel_for(0, n, int64_t{1} << 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const float gi = g[i];
      g[i] = 0.0f;
      const float mi = m[i] * a.beta1 + (1 - a.beta1) * gi;
      const float vi = v[i] * a.beta2 + (1 - a.beta2) * gi * gi;
      m[i] = mi;
      v[i] = vi;
      p[i] = p[i] * a.lr_decay - a.step_size * mi / (std::sqrt(vi) / a.bias2_sqrt + a.eps);
    }
  });
}

}  // namespace

FlatAdamW::FlatAdamW(std::vector<torch::Tensor> params, torch::optim::AdamWOptions options)
    : torch::optim::AdamW(params, options) {
  if (options.amsgrad()) throw std::invalid_argument("FlatAdamW: amsgrad is not supported");
  std::vector<c10::ScalarType> dtypes;
  std::vector<int64_t> sizes;
  std::vector<const c10::TensorImpl*> seen;
  for (const torch::Tensor& p : params) {
    // Frozen parameters get no gradient and torch's AdamW skips them; tied parameters are updated once.
    if (!p.requires_grad() || std::find(seen.begin(), seen.end(), p.unsafeGetTensorImpl()) != seen.end()) continue;
    seen.push_back(p.unsafeGetTensorImpl());
    if (p.device() != params.front().device())
      throw std::invalid_argument("FlatAdamW: parameters are on several devices");
    size_t g = std::find(dtypes.begin(), dtypes.end(), p.scalar_type()) - dtypes.begin();
    if (g == dtypes.size()) {
      dtypes.push_back(p.scalar_type());
      sizes.push_back(0);
    }
    slots_.push_back({p, g, sizes[g]});
    sizes[g] += p.numel();
  }
  for (size_t g = 0; g < dtypes.size(); ++g) {
    auto o = torch::TensorOptions().dtype(dtypes[g]).device(params.front().device());
    buffers_.push_back({torch::empty({sizes[g]}, o), {}, {}, {}, {}});
  }
  Bind(/*grads=*/false);  // from here on the model's weights are the flat buffers
  // The parameters' first storage is free now; the CPU cache would keep it (~4 bytes per parameter) for sizes
  // that training never asks for again.
  if (!buffers_.empty() && buffers_.front().values.is_cpu()) EmptyCpuCache();
}

void FlatAdamW::Bind(bool grads) {
  torch::NoGradGuard no_grad;
  // Gradients get their buffer only when training starts: a model that only generates never holds one.
  if (grads) {
    for (Buffer& b : buffers_) {
      if (!b.grads.defined()) b.grads = torch::zeros_like(b.values);
    }
  }
  for (Slot& s : slots_) {
    Buffer& b = buffers_[s.group];
    if (!StartsAt(s.param, b.values, s.offset)) {
      torch::Tensor view = ViewOf(b.values, s.offset, s.param);
      view.copy_(s.param);
      s.param.set_data(view);
    }
    if (!grads) continue;
    const torch::Tensor& grad = s.param.grad();
    if (!StartsAt(grad, b.grads, s.offset)) {
      torch::Tensor view = ViewOf(b.grads, s.offset, s.param);
      if (grad.defined())
        view.copy_(grad);
      else
        view.zero_();
      s.param.mutable_grad() = view;
    }
  }
}

void FlatAdamW::ZeroGrad() {
  Bind();
  for (Buffer& b : buffers_) {
    if (b.grads._version() != b.zeroed_at) b.grads.zero_();
  }
}

void FlatAdamW::GradientsReady() {
  if (!hook_ && !sync_) return;
  Bind();
  if (hook_) {
    std::vector<torch::Tensor> grads;
    for (Buffer& b : buffers_) grads.push_back(b.grads);
    hook_(grads);
  }
  if (sync_) sync_->Finish();
}

std::vector<FlatAdamW::GradSlot> FlatAdamW::GradLayout() const {
  std::vector<GradSlot> out;
  for (const Slot& s : slots_) out.push_back({s.param, s.group, s.offset});
  return out;
}

double FlatAdamW::GradNorm() {
  Bind();
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> norms;
  for (Buffer& b : buffers_) norms.push_back(b.grads.norm(2).to(torch::kFloat32));
  return norms.empty() ? 0.0 : torch::stack(norms).norm(2).item<double>();
}

void FlatAdamW::PoisonGradients() {
  if (sync_) sync_->Poison();
  Bind();
  torch::NoGradGuard no_grad;
  for (Buffer& b : buffers_) b.grads.fill_(std::numeric_limits<double>::quiet_NaN());
}

double FlatAdamW::ClipGradNorm(double max_norm, double total) {
  Bind();
  torch::NoGradGuard no_grad;
  const double coef = max_norm / (total + 1e-6);
  if (coef < 1) {
    for (Buffer& b : buffers_) b.grads.mul_(coef);
  }
  return total;
}

torch::Tensor FlatAdamW::step(LossClosure closure) {
  torch::Tensor loss;
  if (closure) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  torch::NoGradGuard no_grad;
  Bind();
  const auto& o = static_cast<const torch::optim::AdamWOptions&>(param_groups()[0].options());
  const auto [beta1, beta2] = o.betas();
  ++steps_;
  const double bias1 = 1 - std::pow(beta1, static_cast<double>(steps_));
  const double bias2_sqrt = std::sqrt(1 - std::pow(beta2, static_cast<double>(steps_)));
  const double step_size = o.lr() / bias1;
  for (Buffer& b : buffers_) {
    if (!b.exp_avg.defined()) {
      b.exp_avg = torch::zeros_like(b.values);
      b.exp_avg_sq = torch::zeros_like(b.values);
    }
    const int64_t n = b.values.numel();
    if (b.values.is_cpu() && b.values.scalar_type() == torch::kFloat32) {
      const AdamWStep a{static_cast<float>(1 - o.lr() * o.weight_decay()),
                        static_cast<float>(beta1),
                        static_cast<float>(beta2),
                        static_cast<float>(bias2_sqrt),
                        static_cast<float>(o.eps()),
                        static_cast<float>(step_size)};
      FusedStep(b.values.data_ptr<float>(), b.grads.data_ptr<float>(), b.exp_avg.data_ptr<float>(),
                b.exp_avg_sq.data_ptr<float>(), n, a);
      // Zero until something writes them in place (autograd's accumulation, clipping, Bind's copy), which bumps the
      // buffer's version counter (shared with every parameter's gradient view).
      b.zeroed_at = b.grads._version();
      continue;
    }
    const int64_t chunk = b.values.is_cuda() ? n : std::min(n, kCpuChunk);
    if (!b.scratch.defined() || b.scratch.numel() < chunk) b.scratch = torch::empty({chunk}, b.values.options());
    for (int64_t at = 0; at < n; at += chunk) {
      const int64_t len = std::min(chunk, n - at);
      torch::Tensor p = b.values.narrow(0, at, len), g = b.grads.narrow(0, at, len);
      torch::Tensor m = b.exp_avg.narrow(0, at, len), v = b.exp_avg_sq.narrow(0, at, len);
      torch::Tensor denom = b.scratch.narrow(0, 0, len);
      // torch::optim::AdamW's operations in its order, so the two agree to rounding.
      if (o.weight_decay() != 0) p.mul_(1 - o.lr() * o.weight_decay());
      m.mul_(beta1).add_(g, 1 - beta1);
      v.mul_(beta2).addcmul_(g, g, 1 - beta2);
      torch::sqrt_out(denom, v).div_(bias2_sqrt).add_(o.eps());
      p.addcdiv_(m, denom, -step_size);
    }
  }
  // The update wrote through the flat buffer, which the parameters' own version counters do not see; caches keyed
  // on them (packed generation weights) must.
  for (Slot& s : slots_) s.param.unsafeGetTensorImpl()->bump_version();
  return loss;
}

// AdamW's own checkpoint format (one state per parameter), filled for the call only.
void FlatAdamW::save(torch::serialize::OutputArchive& archive) const {
  auto* self = const_cast<FlatAdamW*>(this);
  self->Bind(/*grads=*/false);
  if (steps_ > 0) {
    for (const Slot& s : slots_) {
      const Buffer& b = buffers_[s.group];
      auto state = std::make_unique<torch::optim::AdamWParamState>();
      state->step(steps_);
      state->exp_avg(ViewOf(b.exp_avg, s.offset, s.param).clone());
      state->exp_avg_sq(ViewOf(b.exp_avg_sq, s.offset, s.param).clone());
      self->state_[OptimizerStateKey(s.param)] = std::move(state);
    }
  }
  try {
    torch::optim::AdamW::save(archive);
  } catch (...) {
    self->state_.clear();
    throw;
  }
  self->state_.clear();
}

void FlatAdamW::load(torch::serialize::InputArchive& archive) {
  pending_ = "";
  torch::optim::AdamW::load(archive);  // options (lr, betas, …) and per-parameter state
  Bind(/*grads=*/false);               // the model's load replaced the parameters' storage
  torch::NoGradGuard no_grad;
  steps_ = 0;
  for (Buffer& b : buffers_) b.exp_avg = b.exp_avg_sq = torch::Tensor();
  for (const Slot& s : slots_) {
    auto it = state_.find(OptimizerStateKey(s.param));
    if (it == state_.end()) continue;
    auto& state = static_cast<torch::optim::AdamWParamState&>(*it->second);
    Buffer& b = buffers_[s.group];
    if (!b.exp_avg.defined()) {
      b.exp_avg = torch::zeros_like(b.values);
      b.exp_avg_sq = torch::zeros_like(b.values);
    }
    ViewOf(b.exp_avg, s.offset, s.param).copy_(state.exp_avg());
    ViewOf(b.exp_avg_sq, s.offset, s.param).copy_(state.exp_avg_sq());
    steps_ = std::max<int64_t>(steps_, state.step());
  }
  state_.clear();
  // NaN moments would turn the next update's weights into NaN whatever the gradient.
  for (const Buffer& b : buffers_) {
    if (b.exp_avg.defined() &&
        !(torch::isfinite(b.exp_avg).all().item<bool>() && torch::isfinite(b.exp_avg_sq).all().item<bool>())) {
      throw std::runtime_error("the optimiser state holds NaN or Inf");
    }
  }
}

FlatAdamW::Outcome FlatAdamW::Update(double clip, double lr) {
  GradientsReady();
  Outcome r{GradNorm(), TakePending()};
  if (*r.non_finite == '\0' && !std::isfinite(r.grad_norm)) r.non_finite = "gradients";
  if (*r.non_finite == '\0') {
    if (clip > 0) ClipGradNorm(clip, r.grad_norm);
    SetLr(lr);
    step();
  }
  ZeroGrad();
  return r;
}

FlatAdamW::Outcome FlatAdamW::EndStep(NonFinite why, bool update, double clip, double lr) {
  if (*why != '\0') {
    PoisonGradients();
    NotePending(why);
  }
  if (!update) return {std::numeric_limits<double>::quiet_NaN(), why};
  return Update(clip, lr);
}

}  // namespace torchmotion

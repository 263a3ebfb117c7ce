#include "models/t2m/step.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "compat.h"
#include "models/t2m/head_loss.h"

namespace torchmotion {
namespace {

struct TargetRows {
  torch::Tensor rows;     // (N, dim): the trunk's output where a target exists
  torch::Tensor targets;  // (N): codes and END, never PAD
};

// The trunk over text prefix + codes (shifted by one), kept at the positions that predict a code or END.
TargetRows AtTargets(T2M& model, const torch::Tensor& text, const torch::Tensor& lengths, const torch::Tensor& codes,
                     const torch::Device& device, bool autocast) {
  const int64_t pad = model->config().vocab - 1;
  AutocastGuard amp(autocast, at::kBFloat16);
  const int64_t Lt = text.size(1), Lc = codes.size(1);
  torch::Tensor h = model->hidden(text.to(device), lengths, codes.narrow(1, 0, Lc - 1));
  torch::Tensor valid = codes.ne(pad);
  return {h.narrow(1, Lt - 1, Lc).masked_select(valid.unsqueeze(-1)).view({-1, h.size(-1)}),
          codes.masked_select(valid)};
}

}  // namespace

// The head and cross-entropy run only where a target exists (codes and END), never on padding or the text prefix,
// and a chunk of positions at a time, so the 64,001-way logits never exist for the whole batch.
T2MStepResult T2MTrainStep(T2M& model, FlatAdamW& optimizer, const torch::Tensor& text, const torch::Tensor& lengths,
                           const torch::Tensor& codes, const torch::Device& device, const T2MStepArgs& a) {
  model->train();
  model->set_recompute(a.recompute);
  optimizer.PrepareGrads();
  const int64_t pad = model->config().vocab - 1;
  T2MStepResult r{std::numeric_limits<double>::quiet_NaN(), 0, 0, 0, ""};
  if (text.is_floating_point() && !torch::isfinite(text).all().item<bool>()) {
    r.non_finite = "input";
  } else {
    auto [rows, targets] = AtTargets(model, text, lengths, codes.to(device), device, a.autocast);
    // The last micro-batch's trunk backward completes the gradients: data-parallel buckets may start during it (the
    // head's gradients, back-propagated chunk by chunk before it, are complete by then).
    std::function<void()> arm;
    if (a.update) arm = [&] { optimizer.ArmSync(model->head_parameters()); };
    HeadLoss hl = ChunkedHeadLossBackward([&model](const torch::Tensor& x) { return model->head(x); }, rows, targets,
                                          pad, a.loss_scale, a.autocast, arm);
    r.tokens = static_cast<double>(targets.numel());
    r.loss = hl.loss;
    r.accuracy = static_cast<double>(hl.correct) / std::max(1.0, r.tokens);
    if (!std::isfinite(r.loss)) r.non_finite = "loss";
  }
  const FlatAdamW::Outcome end = optimizer.EndStep(r.non_finite, a.update, a.clip, a.lr);
  r.grad_norm = end.grad_norm;
  r.non_finite = end.non_finite;
  return r;
}

T2MEvalResult T2MEvaluate(T2M& model, const torch::Tensor& text, const torch::Tensor& lengths,
                          const torch::Tensor& codes, const torch::Device& device, bool autocast) {
  torch::NoGradGuard no_grad;
  model->eval();
  auto [rows, targets] = AtTargets(model, text, lengths, codes.to(device), device, autocast);
  HeadLoss hl = ChunkedHeadLoss([&model](const torch::Tensor& r) { return model->head(r); }, rows, targets,
                                model->config().vocab - 1, autocast);
  const double n = static_cast<double>(targets.numel());
  return {hl.loss, static_cast<double>(hl.correct) / std::max(1.0, n), n};
}

}  // namespace torchmotion

#include "models/tokenizer/step.h"

#include <cmath>
#include <limits>
#include <tuple>

#include "compat.h"

namespace torchmotion {
namespace {

// exp(entropy) of the code histogram, counted with bincount (never a dense one-hot).
std::pair<double, int64_t> Perplexity(const torch::Tensor& codes, int64_t size) {
  torch::Tensor counts = torch::bincount(codes.reshape({-1}).to(torch::kCPU), {}, size).to(torch::kFloat64);
  torch::Tensor p = counts / counts.sum();
  double entropy = -(p * torch::log(p.clamp_min(1e-30))).sum().item<double>();
  return {std::exp(entropy), (counts > 0).sum().item<int64_t>()};
}

}  // namespace

TokenizerStepResult TokenizerTrainStep(Tokenizer& model, FlatAdamW& optimizer, const torch::Tensor& motion,
                                       const torch::Device& device, const TokenizerStepArgs& a) {
  model->train();
  optimizer.PrepareGrads();
  torch::Tensor target = motion.to(device);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  TokenizerStepResult r{nan, nan, nan, nan, nan, nan, 0, 0, ""};
  if (!torch::isfinite(target).all().item<bool>()) {
    r.non_finite = "input";
  } else {
    TokenizerOutput out;
    TokenizerLoss loss;
    {
      AutocastGuard amp(a.autocast, at::kBFloat16);
      out = model->forward(target);
      loss = ComputeTokenizerLoss(out, target, a.vel_weight, a.commit_beta);
    }
    if (a.update) optimizer.ArmSync();  // buckets of gradients are averaged across ranks as backward completes them
    (a.loss_scale == 1 ? loss.total : loss.total * a.loss_scale).backward();
    r.loss = loss.total.item<double>();
    r.reconstruction = loss.reconstruction.item<double>();
    r.positions = loss.positions.item<double>();
    r.commitment = loss.commitment.item<double>();
    r.layers_used = out.layers_used;
    if (!std::isfinite(r.loss)) r.non_finite = "loss";
    // NaN encodings have no codes; RVQ's are counted in layer 0, which every batch uses.
    else
      std::tie(r.perplexity, r.codes_used) =
          Perplexity(out.codes.dim() == 3 ? out.codes.select(-1, 0) : out.codes, model->codebook_size());
  }
  const FlatAdamW::Outcome end = optimizer.EndStep(r.non_finite, a.update, a.clip, a.lr);
  r.grad_norm = end.grad_norm;
  r.non_finite = end.non_finite;
  return r;
}

}  // namespace torchmotion

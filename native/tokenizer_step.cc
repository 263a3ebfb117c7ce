#include "tokenizer_step.h"

#include <cmath>

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

TokenizerStepResult TokenizerTrainStep(Tokenizer& model, FlatAdamW& optimizer, const torch::Tensor& motion, const torch::Device& device,
                                       const TokenizerStepArgs& a) {
  model->train();
  optimizer.SetLr(a.lr);
  torch::Tensor target = motion.to(device);
  optimizer.ZeroGrad();
  TokenizerLoss loss;
  TokenizerOutput out;
  {
    AutocastGuard amp(a.autocast, at::kBFloat16);
    out = model->forward(target);
    loss = ComputeTokenizerLoss(out, target, a.vel_weight, a.commit_beta);
  }
  loss.total.backward();
  optimizer.GradientsReady();
  double grad_norm = a.clip > 0 ? optimizer.ClipGradNorm(a.clip) : 0.0;
  optimizer.step();
  auto [perplexity, used] = Perplexity(out.codes, model->codebook_size());
  return {loss.total.item<double>(), loss.reconstruction.item<double>(), loss.positions.item<double>(), loss.commitment.item<double>(),
          grad_norm, perplexity, used};
}

}  // namespace torchmotion

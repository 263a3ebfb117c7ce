#include "models/pfnn/pfnn.h"

#include <cmath>

namespace torchmotion {

torch::Tensor CatmullRomCoefficients(const torch::Tensor& phase) {
  torch::Tensor p = phase.to(torch::kFloat64) * 4;
  torch::Tensor base = p.floor();
  torch::Tensor w = p - base;
  torch::Tensor k1 = base.to(torch::kInt64).remainder(4);
  const torch::Tensor w2 = w * w, w3 = w2 * w;
  // The weights of y0 … y3 in the Catmull-Rom cubic between y1 and y2 (control points k1−1 … k1+2, cyclic).
  std::vector<torch::Tensor> c{-0.5 * w3 + w2 - 0.5 * w, 1.5 * w3 - 2.5 * w2 + 1, -1.5 * w3 + 2 * w2 + 0.5 * w,
                               0.5 * w3 - 0.5 * w2};
  torch::Tensor out = torch::zeros({phase.size(0), 4}, p.options());
  for (int64_t j = 0; j < 4; ++j) out.scatter_add_(1, (k1 + (j + 3)).remainder(4).unsqueeze(1), c[j].unsqueeze(1));
  return out.to(phase.scalar_type());
}

namespace {

// The original's initialisation: each control point uniform in ±√(6 / (in + out)), biases zero.
torch::Tensor Uniform(int64_t out, int64_t in) {
  const double bound = std::sqrt(6.0 / static_cast<double>(in + out));
  return torch::empty({4, out, in}).uniform_(-bound, bound);
}

}  // namespace

PfnnImpl::PfnnImpl(const PfnnConfig& c) : config_(c) {
  W0_ = register_parameter("W0", Uniform(c.hidden, c.input));
  b0_ = register_parameter("b0", torch::zeros({4, c.hidden}));
  W1_ = register_parameter("W1", Uniform(c.hidden, c.hidden));
  b1_ = register_parameter("b1", torch::zeros({4, c.hidden}));
  W2_ = register_parameter("W2", Uniform(c.output, c.hidden));
  b2_ = register_parameter("b2", torch::zeros({4, c.output}));
}

torch::Tensor PfnnImpl::layer(const torch::Tensor& x, const torch::Tensor& coef, const torch::Tensor& W,
                              const torch::Tensor& b) const {
  const int64_t out = W.size(1);
  torch::Tensor h =
      torch::mm(torch::dropout(x, 1 - config_.keep, is_training()), W.reshape({4 * out, W.size(2)}).t());  // (B, 4·out)
  return torch::bmm(coef.unsqueeze(1), h.view({-1, 4, out})).squeeze(1) + torch::mm(coef, b);
}

torch::Tensor PfnnImpl::forward(const torch::Tensor& x, const torch::Tensor& phase) {
  torch::Tensor coef = CatmullRomCoefficients(phase).to(x.dtype());
  torch::Tensor h = torch::elu(layer(x, coef, W0_, b0_));
  h = torch::elu(layer(h, coef, W1_, b1_));
  return layer(h, coef, W2_, b2_);
}

torch::Tensor PfnnImpl::weight_penalty() const { return (W0_.abs().mean() + W1_.abs().mean() + W2_.abs().mean()) / 3; }

}  // namespace torchmotion

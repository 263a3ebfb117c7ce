// The Phase-Functioned Neural Network (Holden, Komura and Saito, SIGGRAPH 2017): three layers whose weights and biases
// are functions of the gait phase φ. Each layer stores 4 control points (W: (4, out, in), b: (4, out)) and the
// weights at φ are their cyclic Catmull-Rom cubic at 4φ (k = ⌊4φ⌋ mod 4, w = frac(4φ)); ELU between layers, dropout
// with keep probability `keep` before each layer, as the original. Parameter names are the original's (W0, b0, W1,
// b1, W2, b2), so the control points export as they are.
//
// Blending per batch: since the cubic is linear in the control points, W(φ)·x = Σ_k c_k(φ)·(W_k·x). A layer is one
// GEMM of the batch against its 4 stacked control points, (B, in) × (in, 4·out), then each sample's 4 outputs mixed
// with its 4 coefficients — instead of building every sample's blended (out, in) matrix, which moves B·out·in values
// through memory per layer for B·out·in multiply-adds (the per-sample blend of the original and of public ports).
#pragma once

#include "compat.h"

namespace torchmotion {

struct PfnnConfig {
  int64_t input = 240;   // X without the phase column
  int64_t output = 296;  // Y
  int64_t hidden = 512;
  double keep = 0.7;  // dropout keep probability before each layer
};

// (B) phases in [0, 1) → (B, 4) weights of the 4 control points (each row sums to 1).
torch::Tensor CatmullRomCoefficients(const torch::Tensor& phase);

class PfnnImpl : public torch::nn::Module {
 public:
  explicit PfnnImpl(const PfnnConfig& c);
  // x: (B, input) normalised, phase: (B) in [0, 1) → (B, output) normalised; dropout in train() mode.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& phase);
  // The original's weight penalty: the mean |W| of each layer's control points, averaged over the three layers.
  torch::Tensor weight_penalty() const;
  const PfnnConfig& config() const { return config_; }

 private:
  torch::Tensor layer(const torch::Tensor& x, const torch::Tensor& coef, const torch::Tensor& W,
                      const torch::Tensor& b) const;
  PfnnConfig config_;
  torch::Tensor W0_, b0_, W1_, b1_, W2_, b2_;
};
TORCH_MODULE(Pfnn);

}  // namespace torchmotion

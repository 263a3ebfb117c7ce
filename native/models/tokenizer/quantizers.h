// Quantisers between the tokenizer's encoder and decoder. FSQ (MotionMillion): project to a few channels, bound,
// round with a straight-through estimator, index by mixed radix. VQ (T2M-GPT's EMA + reset baseline): nearest code,
// EMA of code sums and counts, dead codes re-drawn from current encoder outputs, commitment loss. RVQ (MoMask):
// Q VQ layers, each quantising the residual the layers before it left, with quantizer dropout in training.
#pragma once

#include <memory>
#include <vector>

#include "compat.h"

namespace torchmotion {

struct QuantizerOutput {
  torch::Tensor quantized;    // (B, width, T')
  torch::Tensor codes;        // (B, T') int64; (B, T', Q) for RVQ, −1 in the layers a training batch left out
  torch::Tensor commit_loss;  // scalar (0 for FSQ)
  int64_t layers_used = 1;    // RVQ: the layers this batch used (fewer under quantizer dropout)
};

class QuantizerImpl : public torch::nn::Module {
 public:
  virtual QuantizerOutput quantize(const torch::Tensor& z) = 0;      // z: (B, width, T')
  virtual torch::Tensor dequantize(const torch::Tensor& codes) = 0;  // codes as quantize gives them → (B, width, T')
  virtual int64_t codebook_size() const = 0;                         // codes per layer
  virtual int64_t layers() const { return 0; }                       // the codes' layer axis: 0 = none, (B, T')
};

class FsqImpl : public QuantizerImpl {
 public:
  FsqImpl(std::vector<int64_t> levels, int64_t width);
  QuantizerOutput quantize(const torch::Tensor& z) override;
  torch::Tensor dequantize(const torch::Tensor& codes) override;
  int64_t codebook_size() const override { return size_; }

 private:
  torch::Tensor Bound(const torch::Tensor& z) const;
  std::vector<int64_t> levels_;
  int64_t size_ = 1;
  torch::Tensor half_l_, offset_, shift_, half_width_, basis_, levels_t_;  // (d,) fp32 / int64, not in the state dict
  torch::nn::Linear project_in_{nullptr}, project_out_{nullptr};
};

class VqImpl : public QuantizerImpl {
 public:
  VqImpl(int64_t codes, int64_t width, double mu);
  QuantizerOutput quantize(const torch::Tensor& z) override;
  torch::Tensor dequantize(const torch::Tensor& codes) override;
  int64_t codebook_size() const override { return codes_; }

 private:
  torch::Tensor Nearest(const torch::Tensor& x) const;  // (N, width) → (N,) int64, chunked to bound memory
  void UpdateCodebook(const torch::Tensor& x, const torch::Tensor& codes);
  int64_t codes_, width_;
  double mu_;
  torch::Tensor codebook_, code_sum_, code_count_, initialised_;
};

// MoMask's residual VQ: layer l quantises what layers 0..l−1 left (residual −= quantized.detach()); the output is
// the sum of the layers' straight-through outputs, the commitment loss the mean over the layers used. Quantizer
// dropout (MoMask's rule): in training, with probability `dropout` the batch uses only layers 0..n−1, n uniform in
// [1, Q], drawn from LibTorch's generator (so a seed fixes it); the left-out layers neither quantise nor learn.
// As in MoMask, each layer's straight-through output passes the decoder's gradient on, so the encoder receives it
// once per layer used.
class RvqImpl : public QuantizerImpl {
 public:
  RvqImpl(int64_t layers, int64_t codes, int64_t width, double mu, double dropout);
  QuantizerOutput quantize(const torch::Tensor& z) override;
  torch::Tensor dequantize(const torch::Tensor& codes) override;  // (B, T', Q) → (B, width, T')
  int64_t codebook_size() const override { return codes_; }
  int64_t layers() const override { return static_cast<int64_t>(layers_.size()); }

 private:
  int64_t codes_;
  double dropout_;
  std::vector<std::shared_ptr<VqImpl>> layers_;  // registered as layers.0, layers.1, … (MoMask's names)
};

}  // namespace torchmotion

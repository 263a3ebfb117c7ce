// Quantisers between the tokenizer's encoder and decoder. FSQ (MotionMillion): project to a few channels, bound,
// round with a straight-through estimator, index by mixed radix. VQ (T2M-GPT's EMA + reset baseline): nearest code,
// EMA of code sums and counts, dead codes re-drawn from current encoder outputs, commitment loss.
#pragma once

#include <vector>

#include "compat.h"

namespace torchmotion {

struct QuantizerOutput {
  torch::Tensor quantized;   // (B, width, T')
  torch::Tensor codes;       // (B, T') int64
  torch::Tensor commit_loss; // scalar (0 for FSQ)
};

class QuantizerImpl : public torch::nn::Module {
 public:
  virtual QuantizerOutput quantize(const torch::Tensor& z) = 0;      // z: (B, width, T')
  virtual torch::Tensor dequantize(const torch::Tensor& codes) = 0;  // (B, T') → (B, width, T')
  virtual int64_t codebook_size() const = 0;
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

}  // namespace torchmotion

// The motion tokenizer: encoder → quantiser → decoder, on (B, T, 272) normalised motion.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "models/tokenizer/conv_blocks.h"
#include "models/tokenizer/quantizers.h"

namespace torchmotion {

struct TokenizerConfig {
  ConvNetConfig net;
  std::string quantizer = "fsq";          // "fsq" or "vq"
  std::vector<int64_t> levels{8, 8, 8, 5, 5, 5};
  int64_t codes = 512;                    // VQ codebook size
  double mu = 0.99;                       // VQ EMA decay
};

struct TokenizerOutput {
  torch::Tensor reconstruction;  // (B, T, 272)
  torch::Tensor codes;           // (B, T')
  torch::Tensor commit_loss;
};

class TokenizerImpl : public torch::nn::Module {
 public:
  explicit TokenizerImpl(const TokenizerConfig& c);
  TokenizerOutput forward(const torch::Tensor& motion);
  torch::Tensor encode(const torch::Tensor& motion);  // → (B, T') int64
  torch::Tensor decode(const torch::Tensor& codes);   // → (B, T, 272)
  int64_t downsampling() const;
  int64_t codebook_size() const { return quantizer_->codebook_size(); }
  const TokenizerConfig& config() const { return config_; }

 private:
  TokenizerConfig config_;
  Encoder encoder_{nullptr};
  Decoder decoder_{nullptr};
  std::shared_ptr<QuantizerImpl> quantizer_;
};
TORCH_MODULE(Tokenizer);

// The reference loss: SmoothL1 over all channels + vel_weight × SmoothL1 over channels 8:74 (the positions block,
// named "velocity" in the reference) + commit_beta × commitment (VQ only).
struct TokenizerLoss {
  torch::Tensor total, reconstruction, positions, commitment;
};
TokenizerLoss ComputeTokenizerLoss(const TokenizerOutput& out, const torch::Tensor& target, double vel_weight, double commit_beta);

}  // namespace torchmotion

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
  std::string quantizer = "fsq";  // one of kQuantizers
  std::vector<int64_t> levels{8, 8, 8, 5, 5, 5};
  int64_t codes = 512;           // VQ codebook size (RVQ: per layer)
  double mu = 0.99;              // VQ EMA decay
  int64_t layers = 1;            // RVQ layers (Q)
  double quantizer_dropout = 0;  // RVQ: probability that a training batch uses only the first n layers
};

// The quantizers a tokenizer can have (TypeScript's list is QUANTIZERS in ts/tokenizer/config.ts).
inline const std::vector<std::string> kQuantizers{"fsq", "vq", "rvq"};

struct TokenizerOutput {
  torch::Tensor reconstruction;  // (B, T, 272)
  torch::Tensor codes;           // (B, T'), or (B, T', Q) for RVQ
  torch::Tensor commit_loss;
  int64_t layers_used = 1;  // RVQ: layers this batch used
};

class TokenizerImpl : public torch::nn::Module {
 public:
  explicit TokenizerImpl(const TokenizerConfig& c);
  TokenizerOutput forward(const torch::Tensor& motion);
  torch::Tensor encode(const torch::Tensor& motion);  // → (B, T') int64, (B, T', Q) for RVQ
  torch::Tensor decode(const torch::Tensor& codes);   // → (B, T, 272)
  int64_t downsampling() const;
  int64_t codebook_size() const { return quantizer_->codebook_size(); }
  int64_t layers() const { return quantizer_->layers(); }  // the codes' layer axis (Q), 0 when they have none
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
TokenizerLoss ComputeTokenizerLoss(const TokenizerOutput& out, const torch::Tensor& target, double vel_weight,
                                   double commit_beta);

}  // namespace torchmotion

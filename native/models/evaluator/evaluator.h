// The text–motion retrieval evaluator: two TMR-style sequence encoders (ACTOR's: a linear projection, two learned
// tokens in front — the distribution's mean and log-variance in TMR's VAE — sinusoidal positions, a post-norm
// PyTorch TransformerEncoder with GELU) that end in one shared latent space. The embedding of a sequence is its mean
// token, L2-normalised, so Euclidean ranking equals the cosine ranking InfoNCE trains. Module names follow TMR
// (textencoder.*, motionencoder.*, projection, tokens, seqTransEncoder.layers.N.*), so the reference's released
// evaluator (motion side: 272 features, 4 layers, latent 512) maps onto it weight for weight.
#pragma once

#include "compat.h"

namespace torchmotion {

struct SequenceEncoderConfig {
  int64_t input = 272;  // features per element (272 motion channels, a word vector, a text-token embedding)
  int64_t latent = 256;
  int64_t layers = 4;
  int64_t heads = 4;
  int64_t ff = 1024;
  double dropout = 0.1;
  int64_t max_len = 300;  // elements, not counting the two tokens
};

class SequenceEncoderImpl : public torch::nn::Module {
 public:
  explicit SequenceEncoderImpl(const SequenceEncoderConfig& c);
  // x: (B, L, input) right-padded; lengths: (B) int64 in [1, L] → the mean token (B, latent), not normalised.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& lengths);
  const SequenceEncoderConfig& config() const { return config_; }

 private:
  SequenceEncoderConfig config_;
  torch::nn::Linear projection_{nullptr};
  torch::Tensor tokens_;
  torch::Tensor positions_;  // (max_len + 2, latent) sinusoidal table, computed (not stored)
  torch::nn::Dropout position_dropout_{nullptr};
  torch::nn::TransformerEncoder encoder_{nullptr};
};
TORCH_MODULE(SequenceEncoder);

struct EvaluatorConfig {
  SequenceEncoderConfig motion, text;
  int64_t text_vocab = 0;  // > 0: the built-in word-level text side (an embedding table of text.input-wide vectors)
};

class EvaluatorImpl : public torch::nn::Module {
 public:
  explicit EvaluatorImpl(const EvaluatorConfig& c);
  // text: (B, L) int64 word ids (built-in) or (B, L, text.input) float embeddings, right-padded → (B, latent), unit
  // rows.
  torch::Tensor embed_text(const torch::Tensor& text, const torch::Tensor& lengths);
  // motion: (B, T, 272) normalised, right-padded → (B, latent), unit rows.
  torch::Tensor embed_motion(const torch::Tensor& motion, const torch::Tensor& lengths);
  bool builtin_text() const { return static_cast<bool>(words_); }
  const EvaluatorConfig& config() const { return config_; }

 private:
  EvaluatorConfig config_;
  torch::nn::Embedding words_{nullptr};
  SequenceEncoder text_{nullptr}, motion_{nullptr};
};
TORCH_MODULE(Evaluator);

// Symmetric InfoNCE over cosine similarities / temperature (TMR's): row i of each side is a pair; `exclude` (B, B)
// bool marks pairs that must not count as negatives (near-duplicate captions); the diagonal is never excluded.
torch::Tensor InfoNce(const torch::Tensor& text, const torch::Tensor& motion, const torch::Tensor& exclude,
                      double temperature);

}  // namespace torchmotion

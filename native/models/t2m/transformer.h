// The LLaMA-style text-to-motion decoder (MotionMillion): pre-RMSNorm blocks with fused QKV, rotary positions,
// SwiGLU, no biases; a text prefix projected from token-level text embeddings; prefix-LM attention (causal, plus
// full attention among the valid text tokens). Names follow the reference (layers.N.attention.wqkv, …).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "compat.h"
#include "kernels/packed_linear.h"

namespace torchmotion {

// x · Wᵀ of a bias-free linear layer; 1–16 rows outside autograd use the packed-panel kernel.
torch::Tensor Project(torch::nn::Linear& layer, PackedWeight& packed, const torch::Tensor& x);

struct DecoderConfig {
  int64_t vocab = 64002;  // codes + END + PAD; the head predicts vocab − 1 classes (never PAD)
  int64_t dim = 512;
  int64_t layers = 8;
  int64_t heads = 8;
  int64_t hidden = 1536;    // SwiGLU width
  int64_t text_dim = 2048;  // width of the text embeddings given to the prefix projection
  int64_t max_len = 512;    // text prefix + motion positions
  double rope_base = 10000.0;
  double eps = 1e-5;
  torch::ScalarType dtype = torch::kFloat32;  // bfloat16: weights stored in bf16 (a model that only generates)
};

class RmsNormImpl : public torch::nn::Module {
 public:
  RmsNormImpl(int64_t dim, double eps);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::Tensor weight_;
  double eps_;
};
TORCH_MODULE(RmsNorm);

// Rotary tables for positions 0..max_len−1 (interleaved pairs, as Meta's LLaMA).
struct Rotary {
  torch::Tensor cos, sin;  // (max_len, head_dim / 2)
  Rotary() = default;
  Rotary(int64_t max_len, int64_t head_dim, double base);
  // x: (B, L, H, hd); positions: (B, L) int64
  torch::Tensor apply(const torch::Tensor& x, const torch::Tensor& positions) const;
};

struct KvCache {
  std::vector<torch::Tensor> k, v;  // per layer (B, H, capacity, hd)
  int64_t length = 0;
};

class AttentionImpl : public torch::nn::Module {
 public:
  AttentionImpl(int64_t dim, int64_t heads);
  // allowed: (B, Lq, Lk) bool. With a cache, k/v of this call are written at [start, start + L) and attention runs
  // over [0, start + L).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& positions, const torch::Tensor& allowed,
                        const Rotary& rope, KvCache* cache, int64_t layer, int64_t start);

 private:
  int64_t heads_, head_dim_;
  torch::nn::Linear wqkv_{nullptr}, wo_{nullptr};
  PackedWeight packed_[2];  // wqkv, wo: packed copies for generation
};
TORCH_MODULE(Attention);

class FeedForwardImpl : public torch::nn::Module {
 public:
  FeedForwardImpl(int64_t dim, int64_t hidden);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Linear w1_{nullptr}, w2_{nullptr}, w3_{nullptr};
  PackedWeight packed_[3];  // w1, w2, w3
};
TORCH_MODULE(FeedForward);

class BlockImpl : public torch::nn::Module {
 public:
  BlockImpl(int64_t dim, int64_t heads, int64_t hidden, double eps);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& positions, const torch::Tensor& allowed,
                        const Rotary& rope, KvCache* cache, int64_t layer, int64_t start);

 private:
  RmsNorm attention_norm_{nullptr}, ffn_norm_{nullptr};
  Attention attention_{nullptr};
  FeedForward feed_forward_{nullptr};
};
TORCH_MODULE(Block);

// A small bidirectional transformer over caption word ids: the built-in, trainable text encoder.
struct TextEncoderConfig {
  int64_t vocab = 0;  // 0: no built-in encoder (embeddings come from outside)
  int64_t dim = 256;
  int64_t layers = 2;
  int64_t heads = 4;
  int64_t max_len = 64;
};

class TextEncoderImpl : public torch::nn::Module {
 public:
  explicit TextEncoderImpl(const TextEncoderConfig& c);
  // ids: (B, Lt) int64, left-padded; lengths: (B,) → (B, Lt, dim)
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& lengths);

 private:
  TextEncoderConfig config_;
  torch::nn::Embedding embeddings_{nullptr};
  torch::nn::ModuleList layers_{nullptr};
  RmsNorm norm_{nullptr};
  Rotary rope_;
};
TORCH_MODULE(TextEncoder);

// Positions and attention masks for a left-padded text prefix of Lt slots followed by motion tokens.
struct PrefixLayout {
  torch::Tensor positions;  // (B, L) int64: valid text 0..len−1, motion from len on; pads 0
  torch::Tensor allowed;    // (B, L, L) bool
};
PrefixLayout MakePrefixLayout(const torch::Tensor& text_lengths, int64_t text_slots, int64_t total,
                              const torch::Device& device);

class T2MImpl : public torch::nn::Module {
 public:
  T2MImpl(const DecoderConfig& c, const TextEncoderConfig& text);
  // text: (B, Lt, text_dim) float embeddings, or (B, Lt) int64 word ids for the built-in encoder; left-padded.
  // codes_in: (B, Lc) int64 → hidden (B, Lt + Lc, dim), before the final norm.
  torch::Tensor hidden(const torch::Tensor& text, const torch::Tensor& text_lengths, const torch::Tensor& codes_in,
                       KvCache* cache = nullptr);
  bool builtin_text() const { return static_cast<bool>(text_encoder_); }
  // One step with a cache: tokens (B, 1) at absolute slot `slot` → hidden (B, 1, dim).
  torch::Tensor step(const torch::Tensor& tokens, const torch::Tensor& text_lengths, int64_t text_slots,
                     KvCache& cache);
  torch::Tensor head(const torch::Tensor& h);
  std::vector<torch::Tensor> head_parameters() const;  // the final norm's and the output projection's
  KvCache new_cache(int64_t batch, int64_t capacity, const torch::TensorOptions& o) const;
  const DecoderConfig& config() const { return config_; }
  // Recompute each block's activations in backward instead of keeping them (training only; see recompute.h).
  void set_recompute(bool on) { recompute_ = on; }

 private:
  torch::Tensor run(torch::Tensor x, const torch::Tensor& positions, const torch::Tensor& allowed, KvCache* cache,
                    int64_t start);
  DecoderConfig config_;
  TextEncoder text_encoder_{nullptr};
  torch::nn::Linear text_proj_{nullptr};
  torch::nn::Embedding tok_embeddings_{nullptr};
  torch::nn::ModuleList layers_{nullptr};
  RmsNorm norm_{nullptr};
  torch::nn::Linear output_{nullptr};
  PackedWeight packed_output_;
  Rotary rope_;
  bool recompute_ = false;
};
TORCH_MODULE(T2M);

}  // namespace torchmotion

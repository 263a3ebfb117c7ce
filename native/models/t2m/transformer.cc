#include "models/t2m/transformer.h"

#include <cmath>
#include <stdexcept>

#include "kernels/decode_attention.h"
#include "kernels/packed_linear.h"
#include "models/t2m/recompute.h"

namespace torchmotion {
namespace {

torch::nn::Linear NoBias(int64_t in, int64_t out) {
  return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(false));
}

// LLaMA's SwiGLU width: 2/3 of 4·dim, rounded up to a multiple of 256.
int64_t SwigluHidden(int64_t dim) { return (8 * dim / 3 + 255) / 256 * 256; }

}  // namespace

// x · Wᵀ for a bias-free linear layer. In inference, 1–16 rows (cached generation: one position per prompt) go
// through the packed-panel kernel (packed_linear.h); the packed copy lives in `packed` next to the layer.
torch::Tensor Project(torch::nn::Linear& layer, PackedWeight& packed, const torch::Tensor& x) {
  const int64_t rows = x.numel() / x.size(-1);
  if (rows <= kPackedMaxRows && !layer->bias.defined() && !torch::GradMode::is_enabled()) {
    torch::Tensor y = PackedMatmul(x.reshape({rows, x.size(-1)}).contiguous(), layer->weight, packed);
    if (y.defined()) {
      auto shape = x.sizes().vec();
      shape.back() = layer->weight.size(0);
      return y.view(shape);
    }
  }
  return layer->forward(x);
}

RmsNormImpl::RmsNormImpl(int64_t dim, double eps) : eps_(eps) {
  weight_ = register_parameter("weight", torch::ones({dim}));
}

torch::Tensor RmsNormImpl::forward(const torch::Tensor& x) {
  torch::Tensor xf = x.to(torch::kFloat32);
  return (xf * torch::rsqrt(xf.pow(2).mean(-1, true) + eps_)).to(x.scalar_type()) * weight_;
}

Rotary::Rotary(int64_t max_len, int64_t head_dim, double base) {
  torch::Tensor inv =
      1.0 / torch::pow(base, torch::arange(0, head_dim, 2, torch::kFloat64) / static_cast<double>(head_dim));
  torch::Tensor angles = torch::outer(torch::arange(max_len, torch::kFloat64), inv);
  cos = angles.cos().to(torch::kFloat32);
  sin = angles.sin().to(torch::kFloat32);
}

torch::Tensor Rotary::apply(const torch::Tensor& x, const torch::Tensor& positions) const {
  auto dev = x.device();
  torch::Tensor c =
      cos.to(dev).index_select(0, positions.reshape({-1})).view({positions.size(0), positions.size(1), 1, -1});
  torch::Tensor s =
      sin.to(dev).index_select(0, positions.reshape({-1})).view({positions.size(0), positions.size(1), 1, -1});
  torch::Tensor pairs = x.to(torch::kFloat32).unflatten(-1, {-1, 2});
  torch::Tensor x0 = pairs.select(-1, 0), x1 = pairs.select(-1, 1);
  return torch::stack({x0 * c - x1 * s, x0 * s + x1 * c}, -1).flatten(-2).to(x.scalar_type());
}

AttentionImpl::AttentionImpl(int64_t dim, int64_t heads) : heads_(heads), head_dim_(dim / heads) {
  if (dim % heads != 0)
    throw std::invalid_argument("dim " + std::to_string(dim) + " is not a multiple of heads " + std::to_string(heads));
  wqkv_ = register_module("wqkv", NoBias(dim, 3 * dim));
  wo_ = register_module("wo", NoBias(dim, dim));
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& positions,
                                     const torch::Tensor& allowed, const Rotary& rope, KvCache* cache, int64_t layer,
                                     int64_t start) {
  const int64_t B = x.size(0), L = x.size(1);
  torch::Tensor qkv = Project(wqkv_, packed_[0], x).view({B, L, 3, heads_, head_dim_});
  torch::Tensor q = rope.apply(qkv.select(2, 0), positions).transpose(1, 2);
  torch::Tensor k = rope.apply(qkv.select(2, 1), positions).transpose(1, 2);
  torch::Tensor v = qkv.select(2, 2).transpose(1, 2);
  if (cache) {
    cache->k[layer].narrow(2, start, L).copy_(k);
    cache->v[layer].narrow(2, start, L).copy_(v);
    k = cache->k[layer].narrow(2, 0, start + L);
    v = cache->v[layer].narrow(2, 0, start + L);
  }
  torch::Tensor out;
  if (cache && L == 1 && !torch::GradMode::is_enabled()) out = DecodeAttention(q, k, v, allowed.unsqueeze(1));
  if (!out.defined()) out = ScaledDotProductAttention(q, k, v, allowed.unsqueeze(1));
  return Project(wo_, packed_[1], out.transpose(1, 2).reshape({B, L, heads_ * head_dim_}));
}

FeedForwardImpl::FeedForwardImpl(int64_t dim, int64_t hidden) {
  w1_ = register_module("w1", NoBias(dim, hidden));
  w2_ = register_module("w2", NoBias(hidden, dim));
  w3_ = register_module("w3", NoBias(dim, hidden));
}

torch::Tensor FeedForwardImpl::forward(const torch::Tensor& x) {
  return Project(w2_, packed_[1], torch::silu(Project(w1_, packed_[0], x)) * Project(w3_, packed_[2], x));
}

BlockImpl::BlockImpl(int64_t dim, int64_t heads, int64_t hidden, double eps) {
  attention_ = register_module("attention", Attention(dim, heads));
  feed_forward_ = register_module("feed_forward", FeedForward(dim, hidden));
  attention_norm_ = register_module("attention_norm", RmsNorm(dim, eps));
  ffn_norm_ = register_module("ffn_norm", RmsNorm(dim, eps));
}

torch::Tensor BlockImpl::forward(const torch::Tensor& x, const torch::Tensor& positions, const torch::Tensor& allowed,
                                 const Rotary& rope, KvCache* cache, int64_t layer, int64_t start) {
  torch::Tensor h = x + attention_->forward(attention_norm_->forward(x), positions, allowed, rope, cache, layer, start);
  return h + feed_forward_->forward(ffn_norm_->forward(h));
}

PrefixLayout MakePrefixLayout(const torch::Tensor& text_lengths, int64_t text_slots, int64_t total,
                              const torch::Device& device) {
  torch::Tensor idx =
      torch::arange(total, torch::TensorOptions().dtype(torch::kInt64).device(device)).unsqueeze(0);  // (1, L)
  torch::Tensor pad_end = (text_slots - text_lengths.to(device).to(torch::kInt64)).unsqueeze(1);      // (B, 1)
  torch::Tensor is_pad = idx < pad_end;                                                               // (B, L)
  torch::Tensor is_text = idx < text_slots;
  torch::Tensor positions = (idx - pad_end).clamp_min(0);
  torch::Tensor i = idx.unsqueeze(2), j = idx.unsqueeze(1);  // (1, L, 1), (1, 1, L)
  torch::Tensor causal = j <= i;
  torch::Tensor both_text = is_text.unsqueeze(2) & is_text.unsqueeze(1);
  torch::Tensor allowed = (causal | both_text) & is_pad.logical_not().unsqueeze(1);
  allowed = allowed | (i == j);  // a padding slot attends to itself, so no softmax row is empty
  return {positions, allowed};
}

TextEncoderImpl::TextEncoderImpl(const TextEncoderConfig& c) : config_(c), rope_(c.max_len, c.dim / c.heads, 10000.0) {
  embeddings_ = register_module("embeddings", torch::nn::Embedding(c.vocab, c.dim));
  layers_ = register_module("layers", torch::nn::ModuleList());
  for (int64_t l = 0; l < c.layers; ++l) layers_->push_back(Block(c.dim, c.heads, SwigluHidden(c.dim), 1e-5));
  norm_ = register_module("norm", RmsNorm(c.dim, 1e-5));
}

torch::Tensor TextEncoderImpl::forward(const torch::Tensor& ids, const torch::Tensor& lengths) {
  const int64_t Lt = ids.size(1);
  if (Lt > config_.max_len)
    throw std::invalid_argument("caption of " + std::to_string(Lt) + " words exceeds the text encoder's " +
                                std::to_string(config_.max_len));
  PrefixLayout layout = MakePrefixLayout(lengths, Lt, Lt, ids.device());  // all text: full attention among valid words
  torch::Tensor x = embeddings_->forward(ids);
  for (int64_t l = 0; l < static_cast<int64_t>(layers_->size()); ++l) {
    x = layers_[l]->as<BlockImpl>()->forward(x, layout.positions, layout.allowed, rope_, nullptr, l, 0);
  }
  return norm_->forward(x);
}

// Each part is converted to the config's dtype as soon as it is built, so a bf16 model never holds all its weights
// in fp32 at once.
T2MImpl::T2MImpl(const DecoderConfig& c, const TextEncoderConfig& text)
    : config_(c), rope_(c.max_len, c.dim / c.heads, c.rope_base) {
  auto in_dtype = [&c](auto m) {
    if (c.dtype != torch::kFloat32) m->to(c.dtype);
    return m;
  };
  if (text.vocab > 0) {
    if (text.dim != c.text_dim) throw std::invalid_argument("the built-in text encoder's width must equal text_dim");
    text_encoder_ = register_module("text_encoder", in_dtype(TextEncoder(text)));
  }
  tok_embeddings_ = register_module("tok_embeddings", in_dtype(torch::nn::Embedding(c.vocab, c.dim)));
  text_proj_ = register_module("text_proj", in_dtype(torch::nn::Linear(c.text_dim, c.dim)));
  layers_ = register_module("layers", torch::nn::ModuleList());
  for (int64_t l = 0; l < c.layers; ++l) layers_->push_back(in_dtype(Block(c.dim, c.heads, c.hidden, c.eps)));
  norm_ = register_module("norm", in_dtype(RmsNorm(c.dim, c.eps)));
  output_ = register_module("output", in_dtype(NoBias(c.dim, c.vocab - 1)));
}

torch::Tensor T2MImpl::run(torch::Tensor x, const torch::Tensor& positions, const torch::Tensor& allowed,
                           KvCache* cache, int64_t start) {
  const bool recompute = recompute_ && is_training() && cache == nullptr && torch::GradMode::is_enabled();
  for (int64_t l = 0; l < static_cast<int64_t>(layers_->size()); ++l) {
    BlockImpl& block = *layers_[l]->as<BlockImpl>();
    x = recompute ? RecomputedBlock(block, rope_, x, positions, allowed)
                  : block.forward(x, positions, allowed, rope_, cache, l, start);
  }
  if (cache) cache->length = start + x.size(1);
  return x;
}

torch::Tensor T2MImpl::hidden(const torch::Tensor& text, const torch::Tensor& text_lengths,
                              const torch::Tensor& codes_in, KvCache* cache) {
  torch::Tensor emb = text_encoder_ ? text_encoder_->forward(text, text_lengths) : text;
  const int64_t Lt = emb.size(1);
  torch::Tensor x = text_proj_->forward(emb.to(text_proj_->weight.scalar_type()));
  if (codes_in.size(1) > 0) x = torch::cat({x, tok_embeddings_->forward(codes_in)}, 1);
  if (x.size(1) > config_.max_len) {
    throw std::invalid_argument("sequence of " + std::to_string(x.size(1)) + " positions exceeds the model's max_len " +
                                std::to_string(config_.max_len));
  }
  PrefixLayout layout = MakePrefixLayout(text_lengths, Lt, x.size(1), x.device());
  return run(x, layout.positions, layout.allowed, cache, 0);
}

torch::Tensor T2MImpl::step(const torch::Tensor& tokens, const torch::Tensor& text_lengths, int64_t text_slots,
                            KvCache& cache) {
  const int64_t slot = cache.length;
  if (slot + 1 > config_.max_len)
    throw std::invalid_argument("generation reached the model's max_len " + std::to_string(config_.max_len));
  auto dev = tokens.device();
  torch::Tensor lens = text_lengths.to(dev).to(torch::kInt64).unsqueeze(1);  // (B, 1)
  torch::Tensor positions = lens + (slot - text_slots);                      // (B, 1)
  torch::Tensor keys = torch::arange(slot + 1, torch::TensorOptions().dtype(torch::kInt64).device(dev)).unsqueeze(0);
  torch::Tensor allowed = (keys >= (text_slots - lens)).unsqueeze(1);  // (B, 1, slot + 1): every non-pad key
  return run(tok_embeddings_->forward(tokens), positions, allowed, &cache, slot);
}

torch::Tensor T2MImpl::head(const torch::Tensor& h) { return Project(output_, packed_output_, norm_->forward(h)); }

std::vector<torch::Tensor> T2MImpl::head_parameters() const {
  std::vector<torch::Tensor> out = norm_->parameters();
  for (const torch::Tensor& p : output_->parameters()) out.push_back(p);
  return out;
}

KvCache T2MImpl::new_cache(int64_t batch, int64_t capacity, const torch::TensorOptions& o) const {
  KvCache c;
  const int64_t hd = config_.dim / config_.heads;
  for (int64_t l = 0; l < config_.layers; ++l) {
    c.k.push_back(torch::zeros({batch, config_.heads, capacity, hd}, o));
    c.v.push_back(torch::zeros({batch, config_.heads, capacity, hd}, o));
  }
  return c;
}

}  // namespace torchmotion

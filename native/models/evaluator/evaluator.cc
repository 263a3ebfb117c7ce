#include "models/evaluator/evaluator.h"

#include <cmath>
#include <limits>

namespace torchmotion {
namespace {

// sin on even channels, cos on odd ones, wavelengths 2π … 10000·2π (Vaswani et al.; TMR's PositionalEncoding).
torch::Tensor SinusoidalTable(int64_t length, int64_t dim) {
  auto position = torch::arange(length, torch::kFloat32).unsqueeze(1);
  auto rate = torch::exp(torch::arange(0, dim, 2, torch::kFloat32) * (-std::log(10000.0) / static_cast<double>(dim)));
  auto table = torch::zeros({length, dim});
  table.index_put_({torch::indexing::Slice(), torch::indexing::Slice(0, torch::indexing::None, 2)},
                   torch::sin(position * rate));
  table.index_put_({torch::indexing::Slice(), torch::indexing::Slice(1, torch::indexing::None, 2)},
                   torch::cos(position * rate).narrow(1, 0, dim / 2));
  return table;
}

}  // namespace

SequenceEncoderImpl::SequenceEncoderImpl(const SequenceEncoderConfig& c) : config_(c) {
  projection_ = register_module("projection", torch::nn::Linear(c.input, c.latent));
  tokens_ = register_parameter("tokens", torch::randn({2, c.latent}));
  position_dropout_ = register_module("position_dropout", torch::nn::Dropout(c.dropout));
  auto layer = torch::nn::TransformerEncoderLayerOptions(c.latent, c.heads)
                   .dim_feedforward(c.ff)
                   .dropout(c.dropout)
                   .activation(torch::kGELU);
  encoder_ = register_module("seqTransEncoder",
                             torch::nn::TransformerEncoder(torch::nn::TransformerEncoderOptions(layer, c.layers)));
  positions_ = SinusoidalTable(c.max_len + 2, c.latent);
}

torch::Tensor SequenceEncoderImpl::forward(const torch::Tensor& x, const torch::Tensor& lengths) {
  const int64_t B = x.size(0), L = x.size(1);
  auto h = projection_->forward(x);
  h = torch::cat({tokens_.unsqueeze(0).expand({B, 2, config_.latent}), h}, 1);
  h = position_dropout_->forward(h + positions_.narrow(0, 0, L + 2).to(h.device()).unsqueeze(0));
  // true where a position is padding; the two tokens are always present.
  auto padded = torch::arange(L + 2, lengths.options()).unsqueeze(0).ge(lengths.unsqueeze(1) + 2);
  // LibTorch's C++ TransformerEncoder is sequence-first.
  auto out = encoder_->forward(h.transpose(0, 1), {}, padded.to(h.device()));
  return out.select(0, 0);
}

EvaluatorImpl::EvaluatorImpl(const EvaluatorConfig& c) : config_(c) {
  if (c.text_vocab > 0) words_ = register_module("words", torch::nn::Embedding(c.text_vocab, c.text.input));
  text_ = register_module("textencoder", SequenceEncoder(c.text));
  motion_ = register_module("motionencoder", SequenceEncoder(c.motion));
}

torch::Tensor EvaluatorImpl::embed_text(const torch::Tensor& text, const torch::Tensor& lengths) {
  auto x = words_ ? words_->forward(text) : text;
  return torch::nn::functional::normalize(text_->forward(x, lengths),
                                          torch::nn::functional::NormalizeFuncOptions().dim(1));
}

torch::Tensor EvaluatorImpl::embed_motion(const torch::Tensor& motion, const torch::Tensor& lengths) {
  return torch::nn::functional::normalize(motion_->forward(motion, lengths),
                                          torch::nn::functional::NormalizeFuncOptions().dim(1));
}

torch::Tensor InfoNce(const torch::Tensor& text, const torch::Tensor& motion, const torch::Tensor& exclude,
                      double temperature) {
  const int64_t B = text.size(0);
  auto diagonal = torch::eye(B, torch::TensorOptions().dtype(torch::kBool).device(text.device()));
  auto sim = text.matmul(motion.t()) / temperature;
  sim = sim.masked_fill(exclude.to(text.device()).logical_and(diagonal.logical_not()),
                        -std::numeric_limits<float>::infinity());
  auto labels = torch::arange(B, torch::TensorOptions().dtype(torch::kLong).device(text.device()));
  return 0.5 *
         (torch::nn::functional::cross_entropy(sim, labels) + torch::nn::functional::cross_entropy(sim.t(), labels));
}

}  // namespace torchmotion

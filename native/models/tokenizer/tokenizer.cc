#include "models/tokenizer/tokenizer.h"

#include <stdexcept>

namespace torchmotion {

TokenizerImpl::TokenizerImpl(const TokenizerConfig& c) : config_(c) {
  encoder_ = register_module("encoder", Encoder(c.net));
  if (c.quantizer == "fsq") {
    quantizer_ = register_module("quantizer", std::make_shared<FsqImpl>(c.levels, c.net.width));
  } else if (c.quantizer == "vq") {
    quantizer_ = register_module("quantizer", std::make_shared<VqImpl>(c.codes, c.net.width, c.mu));
  } else if (c.quantizer == "rvq") {
    quantizer_ = register_module("quantizer",
                                 std::make_shared<RvqImpl>(c.layers, c.codes, c.net.width, c.mu, c.quantizer_dropout));
  } else {
    std::string list;
    for (const auto& q : kQuantizers) list += (list.empty() ? "" : ", ") + q;
    throw std::invalid_argument("quantizer '" + c.quantizer + "' is not one of " + list);
  }
  decoder_ = register_module("decoder", Decoder(c.net));
}

int64_t TokenizerImpl::downsampling() const {
  int64_t f = 1;
  for (int64_t i = 0; i < config_.net.down_t; ++i) f *= config_.net.stride_t;
  return f;
}

TokenizerOutput TokenizerImpl::forward(const torch::Tensor& motion) {
  QuantizerOutput q = quantizer_->quantize(encoder_->forward(motion.permute({0, 2, 1})));
  torch::Tensor recon = decoder_->forward(q.quantized).permute({0, 2, 1});
  return {recon, q.codes, q.commit_loss, q.layers_used};
}

torch::Tensor TokenizerImpl::encode(const torch::Tensor& motion) {
  return quantizer_->quantize(encoder_->forward(motion.permute({0, 2, 1}))).codes;
}

torch::Tensor TokenizerImpl::decode(const torch::Tensor& codes) {
  return decoder_->forward(quantizer_->dequantize(codes)).permute({0, 2, 1});
}

TokenizerLoss ComputeTokenizerLoss(const TokenizerOutput& out, const torch::Tensor& target, double vel_weight,
                                   double commit_beta) {
  torch::Tensor pred = out.reconstruction.to(torch::kFloat32);
  torch::Tensor rec = torch::smooth_l1_loss(pred, target);
  torch::Tensor pos = torch::smooth_l1_loss(pred.narrow(-1, 8, 66), target.narrow(-1, 8, 66));
  torch::Tensor total = rec + vel_weight * pos + commit_beta * out.commit_loss;
  return {total, rec, pos, out.commit_loss};
}

}  // namespace torchmotion

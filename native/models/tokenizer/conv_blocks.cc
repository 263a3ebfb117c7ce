#include "models/tokenizer/conv_blocks.h"

#include <stdexcept>

#include "kernels/channel_norm.h"
#include "kernels/conv1d_cpu.h"

namespace torchmotion {

ConvImpl::ConvImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation)
    : Conv1dImpl(torch::nn::Conv1dOptions(in, out, kernel).stride(stride).padding(pad).dilation(dilation)),
      stride_(stride),
      pad_(pad),
      dilation_(dilation) {}

torch::Tensor ConvImpl::forward(const torch::Tensor& x) {
  return Conv1dLayer(x, weight, bias, stride_, pad_, dilation_);
}

torch::Tensor ConvImpl::forward_upsampled(const torch::Tensor& x, int64_t factor) {
  return Conv1dLayer(x, weight, bias, stride_, pad_, dilation_, factor);
}

torch::Tensor ConvImpl::forward_plus(const torch::Tensor& x, const torch::Tensor& residual) {
  return Conv1dLayer(x, weight, bias, stride_, pad_, dilation_, 1, residual);
}

torch::Tensor Activate(const torch::Tensor& x, const std::string& activation) {
  if (activation == "relu") return torch::relu(x);
  if (activation == "gelu") return torch::gelu(x);
  if (activation == "silu") return torch::silu(x);
  throw std::invalid_argument("activation '" + activation + "' is not one of relu, gelu, silu");
}

ResConv1DBlockImpl::ResConv1DBlockImpl(const ConvNetConfig& c, int64_t dilation) : config_(c) {
  if (c.layer_norm) {
    norm1_ = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.width})));
  }
  conv1_ = register_module("conv1", Conv(c.width, c.width, 3, 1, dilation, dilation));
  if (c.layer_norm) {
    norm2_ = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.width})));
  }
  conv2_ = register_module("conv2", Conv(c.width, c.width, 1));
}

torch::Tensor ResConv1DBlockImpl::forward(const torch::Tensor& x) {
  auto norm_act = [this](torch::nn::LayerNorm& n, const torch::Tensor& t) {
    if (!n) return Activate(t, config_.activation);
    if (config_.activation == "relu" && ChannelLayerNormReluApplies(t)) {
      return ChannelLayerNormRelu(t, n->weight, n->bias, n->options.eps());
    }
    // LayerNorm normalises channels: move them last and back.
    return Activate(n->forward(t.transpose(1, 2)).transpose(1, 2), config_.activation);
  };
  torch::Tensor h = conv1_->forward(norm_act(norm1_, x));
  return conv2_->forward_plus(norm_act(norm2_, h), x);
}

Resnet1DImpl::Resnet1DImpl(const ConvNetConfig& c) {
  model_ = Seq();
  int64_t dilation = 1;
  std::vector<int64_t> dilations;
  for (int64_t d = 0; d < c.depth; ++d, dilation *= c.dilation_growth) dilations.push_back(dilation);
  for (auto it = dilations.rbegin(); it != dilations.rend(); ++it) model_->push_back(ResConv1DBlock(c, *it));
  register_module("model", model_);
}

EncoderImpl::EncoderImpl(const ConvNetConfig& c) {
  model_ = Seq(Conv(c.input_dim, c.width, 3, 1, 1), Activation(c.activation));
  const int64_t filter = c.stride_t * 2;
  const int64_t pad = c.stride_t / 2;
  for (int64_t i = 0; i < c.down_t; ++i) {
    model_->push_back(Seq(Conv(c.width, c.width, filter, c.stride_t, pad), Resnet1D(c)));
  }
  model_->push_back(Conv(c.width, c.width, 3, 1, 1));
  register_module("model", model_);
}

UpStageImpl::UpStageImpl(const ConvNetConfig& c) : factor_(c.stride_t) {
  // The convolution is initialised first: the Sequential this stage replaced, Seq(Resnet1D(c), Upsample, Conv(…)), had
  // its arguments evaluated right to left by GCC, and a seed keeps giving the weights it gave then.
  Conv conv(c.width, c.width, 3, 1, 1);
  res_ = register_module("0", Resnet1D(c));
  conv_ = register_module("2", conv);
}

DecoderImpl::DecoderImpl(const ConvNetConfig& c) {
  model_ = Seq(Conv(c.width, c.width, 3, 1, 1), Activation(c.activation));
  for (int64_t i = 0; i < c.down_t; ++i) model_->push_back(UpStage(c));
  model_->push_back(Conv(c.width, c.width, 3, 1, 1));
  model_->push_back(Activation(c.activation));
  model_->push_back(Conv(c.width, c.input_dim, 3, 1, 1));
  register_module("model", model_);
}

}  // namespace torchmotion

// The MotionMillion / T2M-GPT convolutional encoder and decoder. Module names follow the reference's
// nn.Sequential layout (encoder.model.0.weight, …) so that state dicts map one to one.
#pragma once

#include <string>

#include "compat.h"

namespace torchmotion {

struct ConvNetConfig {
  int64_t input_dim = 272;
  int64_t width = 512;  // channels of every hidden layer and of the latent (code_dim)
  int64_t down_t = 1;   // number of ×stride temporal down-samplings
  int64_t stride_t = 2;
  int64_t depth = 3;  // residual blocks per Resnet1D
  int64_t dilation_growth = 3;
  bool layer_norm = true;           // "LN" or none
  std::string activation = "relu";  // relu, gelu or silu
};

torch::Tensor Activate(const torch::Tensor& x, const std::string& activation);

// nn::Conv1d (same parameters, names and state dict; zero padding) whose forward is Conv1dLayer: native/conv1d_cpu.cc's
// kernels for CPU float32 on an AVX-512 CPU, LibTorch's convolution anywhere else.
class ConvImpl : public torch::nn::Conv1dImpl {
 public:
  ConvImpl(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1, int64_t pad = 0, int64_t dilation = 1);
  torch::Tensor forward(const torch::Tensor& x);
  // The convolution of x upsampled `factor` times by nearest neighbour (an nn.Upsample before it). Not a default
  // argument of forward: a Sequential's forward would then count two arguments.
  torch::Tensor forward_upsampled(const torch::Tensor& x, int64_t factor);
  // conv(x) + residual, the sum made as the convolution's output is written (a residual block's end).
  torch::Tensor forward_plus(const torch::Tensor& x, const torch::Tensor& residual);

 private:
  int64_t stride_, pad_, dilation_;
};
TORCH_MODULE(Conv);

// A Sequential with a plain Tensor → Tensor forward, so Sequentials can nest (LibTorch's own cannot).
class SeqImpl : public torch::nn::SequentialImpl {
 public:
  using SequentialImpl::SequentialImpl;
  torch::Tensor forward(torch::Tensor x) { return SequentialImpl::forward(std::move(x)); }
};
TORCH_MODULE(Seq);

// norm1 → act → conv1 (k3, dilation d) → norm2 → act → conv2 (k1), plus the input.
class ResConv1DBlockImpl : public torch::nn::Module {
 public:
  ResConv1DBlockImpl(const ConvNetConfig& c, int64_t dilation);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  ConvNetConfig config_;
  torch::nn::LayerNorm norm1_{nullptr}, norm2_{nullptr};
  Conv conv1_{nullptr}, conv2_{nullptr};
};
TORCH_MODULE(ResConv1DBlock);

// depth blocks with dilations growth^d applied in reverse order (9, 3, 1 for depth 3), as the reference does.
class Resnet1DImpl : public torch::nn::Module {
 public:
  explicit Resnet1DImpl(const ConvNetConfig& c);
  torch::Tensor forward(const torch::Tensor& x) { return model_->forward(x); }

 private:
  Seq model_{nullptr};
};
TORCH_MODULE(Resnet1D);

// Activations as modules so the Sequential layout (and its indices) matches the reference.
class ActivationImpl : public torch::nn::Module {
 public:
  explicit ActivationImpl(std::string name) : name_(std::move(name)) {}
  torch::Tensor forward(const torch::Tensor& x) { return Activate(x, name_); }

 private:
  std::string name_;
};
TORCH_MODULE(Activation);

// The decoder's up-sampling stage, Resnet1D → Upsample (nearest, ×stride) → Conv k3, as one module whose children
// keep the reference's Sequential names (0: Resnet1D, 2: Conv; 1 was the Upsample, which has no parameters): the
// convolution takes the upsampling itself, so the upsampled tensor is never made (native/conv1d_cpu.cc).
class UpStageImpl : public torch::nn::Module {
 public:
  explicit UpStageImpl(const ConvNetConfig& c);
  torch::Tensor forward(const torch::Tensor& x) { return conv_->forward_upsampled(res_->forward(x), factor_); }

 private:
  int64_t factor_;
  Resnet1D res_{nullptr};
  Conv conv_{nullptr};
};
TORCH_MODULE(UpStage);

// (B, input_dim, T) → (B, width, T / stride^down_t)
class EncoderImpl : public torch::nn::Module {
 public:
  explicit EncoderImpl(const ConvNetConfig& c);
  torch::Tensor forward(const torch::Tensor& x) { return model_->forward(x); }

 private:
  Seq model_{nullptr};
};
TORCH_MODULE(Encoder);

// (B, width, T') → (B, input_dim, T' · stride^down_t)
class DecoderImpl : public torch::nn::Module {
 public:
  explicit DecoderImpl(const ConvNetConfig& c);
  torch::Tensor forward(const torch::Tensor& x) { return model_->forward(x); }

 private:
  Seq model_{nullptr};
};
TORCH_MODULE(Decoder);

}  // namespace torchmotion

#include "models/tokenizer/quantizers.h"

#include <cmath>
#include <stdexcept>

#include "compat.h"
#include "kernels/conv1d_cpu.h"

namespace torchmotion {
namespace {

constexpr double kFsqEps = 1e-3;

torch::Tensor RoundSte(const torch::Tensor& z) { return z + (torch::round(z) - z).detach(); }

// l (a Linear over channels) applied to x (B, C, T) as a 1×1 convolution, giving (B, out, T): the same weights, no
// transposed copies on either side (as a Linear over x's transposed view it ran as batched matrix products, ~1.5 % of
// a two-thread tokenizer step, and handed the decoder a transposed input to copy), and on AVX-512 CPUs torchmotion's
// own convolution.
torch::Tensor ChannelLinear(const torch::Tensor& x, const torch::nn::Linear& l) {
  return Conv1dLayer(x, l->weight.unsqueeze(-1), l->bias, 1, 0, 1);
}

}  // namespace

FsqImpl::FsqImpl(std::vector<int64_t> levels, int64_t width) : levels_(std::move(levels)) {
  if (levels_.empty()) throw std::invalid_argument("FSQ needs at least one level");
  std::vector<float> half_l, offset, shift, half_width;
  std::vector<int64_t> basis;
  int64_t b = 1;
  for (int64_t l : levels_) {
    if (l < 2) throw std::invalid_argument("FSQ levels must be ≥ 2, received " + std::to_string(l));
    double h = (l - 1) * (1 + kFsqEps) / 2;
    double o = l % 2 == 0 ? 0.5 : 0.0;
    half_l.push_back(static_cast<float>(h));
    offset.push_back(static_cast<float>(o));
    shift.push_back(static_cast<float>(std::atanh(o / h)));
    half_width.push_back(static_cast<float>(l / 2));
    basis.push_back(b);
    b *= l;
  }
  size_ = b;
  auto f = [](const std::vector<float>& v) { return torch::tensor(v, torch::kFloat32); };
  half_l_ = f(half_l);
  offset_ = f(offset);
  shift_ = f(shift);
  half_width_ = f(half_width);
  basis_ = torch::tensor(basis, torch::kInt64);
  levels_t_ = torch::tensor(levels_, torch::kInt64);
  const int64_t d = static_cast<int64_t>(levels_.size());
  project_in_ = register_module("project_in", torch::nn::Linear(width, d));
  project_out_ = register_module("project_out", torch::nn::Linear(d, width));
}

torch::Tensor FsqImpl::Bound(const torch::Tensor& z) const {
  auto dev = z.device();
  return torch::tanh(z + shift_.to(dev)) * half_l_.to(dev) - offset_.to(dev);
}

QuantizerOutput FsqImpl::quantize(const torch::Tensor& z) {
  // Quantisation runs in fp32 even under autocast: rounding bf16 values would merge neighbouring levels.
  AutocastOff fp32;
  auto dev = z.device();
  torch::Tensor h = ChannelLinear(z.to(torch::kFloat32), project_in_).transpose(1, 2);  // (B, T', d)
  torch::Tensor q = RoundSte(Bound(h)) / half_width_.to(dev);
  torch::Tensor digits = torch::round(q * half_width_.to(dev) + half_width_.to(dev)).to(torch::kInt64);
  torch::Tensor codes = (digits * basis_.to(dev)).sum(-1);
  torch::Tensor out = ChannelLinear(q.transpose(1, 2), project_out_);
  return {out, codes, torch::zeros({}, z.options().dtype(torch::kFloat32))};
}

torch::Tensor FsqImpl::dequantize(const torch::Tensor& codes) {
  auto dev = codes.device();
  torch::Tensor digits = torch::floor_divide(codes.unsqueeze(-1), basis_.to(dev)) % levels_t_.to(dev);
  torch::Tensor q = (digits.to(torch::kFloat32) - half_width_.to(dev)) / half_width_.to(dev);
  return ChannelLinear(q.transpose(1, 2), project_out_);
}

VqImpl::VqImpl(int64_t codes, int64_t width, double mu) : codes_(codes), width_(width), mu_(mu) {
  if (codes < 2) throw std::invalid_argument("VQ needs at least 2 codes");
  codebook_ = register_buffer("codebook", torch::zeros({codes, width}));
  code_sum_ = register_buffer("code_sum", torch::zeros({codes, width}));
  code_count_ = register_buffer("code_count", torch::zeros({codes}));
  initialised_ = register_buffer("initialised", torch::zeros({}, torch::kBool));
}

torch::Tensor VqImpl::Nearest(const torch::Tensor& x) const {
  // ‖x − c‖² = ‖x‖² − 2 x·c + ‖c‖²; chunks of rows keep the N × codes matrix small for 64k codebooks.
  const int64_t chunk = std::max<int64_t>(1, (int64_t{1} << 24) / codes_);
  torch::Tensor c2 = codebook_.pow(2).sum(-1);
  std::vector<torch::Tensor> parts;
  for (int64_t s = 0; s < x.size(0); s += chunk) {
    torch::Tensor xs = x.narrow(0, s, std::min(chunk, x.size(0) - s));
    parts.push_back((c2 - 2 * torch::matmul(xs, codebook_.t())).argmin(-1));
  }
  return torch::cat(parts);
}

void VqImpl::UpdateCodebook(const torch::Tensor& x, const torch::Tensor& codes) {
  torch::NoGradGuard no_grad;
  torch::Tensor sum = torch::zeros({codes_, width_}, x.options()).index_add_(0, codes, x);
  torch::Tensor count = torch::bincount(codes, {}, codes_).to(x.scalar_type());
  // Replacement candidates for dead codes: random current encoder outputs (tiled with noise when too few).
  torch::Tensor pool = x;
  if (pool.size(0) < codes_) {
    int64_t repeats = (codes_ + pool.size(0) - 1) / pool.size(0);
    pool = pool.repeat({repeats, 1});
    pool = pool + torch::randn_like(pool) * (0.01 / std::sqrt(static_cast<double>(width_)));
  }
  torch::Tensor fresh =
      pool.index_select(0, torch::randperm(pool.size(0), torch::TensorOptions().dtype(torch::kInt64).device(x.device()))
                               .narrow(0, 0, codes_));
  code_sum_.mul_(mu_).add_(sum, 1 - mu_);
  code_count_.mul_(mu_).add_(count, 1 - mu_);
  torch::Tensor used = (code_count_ >= 1.0).to(x.scalar_type()).unsqueeze(1);
  torch::Tensor updated = code_sum_ / code_count_.clamp_min(1e-12).unsqueeze(1);
  codebook_.copy_(used * updated + (1 - used) * fresh);
}

QuantizerOutput VqImpl::quantize(const torch::Tensor& z) {
  const int64_t B = z.size(0), T = z.size(2);
  torch::Tensor x = z.transpose(1, 2).reshape({-1, width_}).to(torch::kFloat32);
  // The codebook learns from training batches only while they are finite: the step will apply no update for a
  // non-finite one (step.h), and a NaN taken into the EMA would never leave it.
  const bool learn = is_training() && torch::isfinite(x).all().item<bool>();
  if (learn && !initialised_.item<bool>()) {
    // First batch initialises the codebook (T2M-GPT): tiled encoder outputs with a little noise.
    torch::NoGradGuard no_grad;
    torch::Tensor pool = x.detach();
    if (pool.size(0) < codes_) {
      int64_t repeats = (codes_ + pool.size(0) - 1) / pool.size(0);
      pool = pool.repeat({repeats, 1});
      pool = pool + torch::randn_like(pool) * (0.01 / std::sqrt(static_cast<double>(width_)));
    }
    codebook_.copy_(pool.narrow(0, 0, codes_));
    code_sum_.copy_(codebook_);
    code_count_.fill_(1.0);
    initialised_.fill_(true);
  }
  torch::Tensor codes = Nearest(x.detach());
  torch::Tensor xd = codebook_.index_select(0, codes);
  if (learn) UpdateCodebook(x.detach(), codes);
  torch::Tensor commit = torch::mse_loss(x, xd.detach());
  torch::Tensor out = x + (xd - x).detach();
  return {out.view({B, T, width_}).transpose(1, 2), codes.view({B, T}), commit};
}

torch::Tensor VqImpl::dequantize(const torch::Tensor& codes) {
  const int64_t B = codes.size(0), T = codes.size(1);
  return codebook_.index_select(0, codes.reshape({-1})).view({B, T, width_}).transpose(1, 2);
}

RvqImpl::RvqImpl(int64_t layers, int64_t codes, int64_t width, double mu, double dropout)
    : codes_(codes), dropout_(dropout) {
  if (layers < 1) throw std::invalid_argument("RVQ needs at least one layer");
  torch::nn::ModuleList list;
  for (int64_t l = 0; l < layers; ++l) {
    layers_.push_back(std::make_shared<VqImpl>(codes, width, mu));
    list->push_back(layers_.back());
  }
  register_module("layers", list);
}

QuantizerOutput RvqImpl::quantize(const torch::Tensor& z) {
  const int64_t Q = layers();
  int64_t used = Q;
  if (is_training() && dropout_ > 0 && torch::rand({1}, torch::kFloat64).item<double>() < dropout_) {
    used = torch::randint(1, Q + 1, {1}, torch::kInt64).item<int64_t>();
  }
  torch::Tensor residual = z, sum, commit;
  std::vector<torch::Tensor> codes;
  for (int64_t l = 0; l < used; ++l) {
    QuantizerOutput q = layers_[l]->quantize(residual);
    residual = residual - q.quantized.detach();
    sum = l == 0 ? q.quantized : sum + q.quantized;
    commit = l == 0 ? q.commit_loss : commit + q.commit_loss;
    codes.push_back(q.codes);
  }
  for (int64_t l = used; l < Q; ++l) codes.push_back(torch::full_like(codes[0], -1));
  return {sum, torch::stack(codes, -1), commit / static_cast<double>(used), used};
}

torch::Tensor RvqImpl::dequantize(const torch::Tensor& codes) {
  torch::Tensor sum = layers_[0]->dequantize(codes.select(-1, 0));
  for (int64_t l = 1; l < layers(); ++l) sum = sum + layers_[l]->dequantize(codes.select(-1, l));
  return sum;
}

}  // namespace torchmotion

#include "kernels/channel_norm.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <vector>

namespace torchmotion {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

constexpr int kLanes = 16;

// One sample: C rows of T contiguous values. Statistics per time step t run across the rows, so every inner loop
// is over contiguous t and vectorises (the pointers are __restrict: nothing aliases); a sample (C × T floats) stays
// in cache across the passes.
void ForwardSample(const float* __restrict x, const float* __restrict w, const float* __restrict b,
                   float* __restrict out, float* __restrict mean, float* __restrict rstd, float* __restrict var,
                   int64_t C, int64_t T, float eps) {
  const float inv_c = 1.0f / static_cast<float>(C);
  for (int64_t t = 0; t < T; ++t) mean[t] = var[t] = 0.0f;
  for (int64_t c = 0; c < C; ++c) {
    for (int64_t t = 0; t < T; ++t) mean[t] += x[c * T + t];
  }
  for (int64_t t = 0; t < T; ++t) mean[t] *= inv_c;
  // Two passes (mean, then squared deviations), as exact as LayerNorm's own.
  for (int64_t c = 0; c < C; ++c) {
    for (int64_t t = 0; t < T; ++t) {
      const float d = x[c * T + t] - mean[t];
      var[t] += d * d;
    }
  }
  for (int64_t t = 0; t < T; ++t) rstd[t] = 1.0f / std::sqrt(var[t] * inv_c + eps);
  for (int64_t c = 0; c < C; ++c) {
    const float wc = w[c], bc = b[c];
    for (int64_t t = 0; t < T; ++t) {
      const float y = (x[c * T + t] - mean[t]) * rstd[t] * wc + bc;  // = x̂·w + b, as the backward recomputes it
      out[c * T + t] = y > 0.0f ? y : 0.0f;
    }
  }
}

// dy = g where the ReLU passed; x̂ = (x − mean)·rstd. The ReLU's mask is recomputed from x with the forward's exact
// expression rather than read from the output: one tensor less to stream from memory.
// dx = rstd · (dy·w − mean_c(dy·w) − x̂ · mean_c(dy·w·x̂)); per channel: dw = Σ_t dy·x̂, db = Σ_t dy.
void BackwardSample(const float* __restrict g, const float* __restrict x, const float* __restrict mean,
                    const float* __restrict rstd, const float* __restrict w, const float* __restrict b,
                    float* __restrict dx, float* __restrict dw, float* __restrict db, float* __restrict s1,
                    float* __restrict s2, int64_t C, int64_t T) {
  for (int64_t t = 0; t < T; ++t) s1[t] = s2[t] = 0.0f;
  for (int64_t c = 0; c < C; ++c) {
    const float* __restrict gc = g + c * T;
    const float* __restrict xc = x + c * T;
    const float wc = w[c], bc = b[c];
    // The channel sums go into kLanes partial sums: one float accumulator would be a serial dependency that the
    // compiler does not vectorise (float addition is not associative).
    float pw[kLanes] = {}, pb[kLanes] = {};
    int64_t t = 0;
    for (; t + kLanes <= T; t += kLanes) {
      for (int j = 0; j < kLanes; ++j) {
        const float xhat = (xc[t + j] - mean[t + j]) * rstd[t + j];
        const float gv = gc[t + j];  // loaded unconditionally: a conditional load would stop vectorisation
        const float dy = xhat * wc + bc > 0.0f ? gv : 0.0f;
        s1[t + j] += dy * wc;
        s2[t + j] += dy * wc * xhat;
        pw[j] += dy * xhat;
        pb[j] += dy;
      }
    }
    for (; t < T; ++t) {
      const float xhat = (xc[t] - mean[t]) * rstd[t];
      const float gv = gc[t];
      const float dy = xhat * wc + bc > 0.0f ? gv : 0.0f;
      s1[t] += dy * wc;
      s2[t] += dy * wc * xhat;
      pw[0] += dy * xhat;
      pb[0] += dy;
    }
    float dwc = 0.0f, dbc = 0.0f;
    for (int j = 0; j < kLanes; ++j) {
      dwc += pw[j];
      dbc += pb[j];
    }
    dw[c] = dwc;
    db[c] = dbc;
  }
  const float inv_c = 1.0f / static_cast<float>(C);
  for (int64_t c = 0; c < C; ++c) {
    const float wc = w[c], bc = b[c];
    for (int64_t t = 0; t < T; ++t) {
      const int64_t i = c * T + t;
      const float xhat = (x[i] - mean[t]) * rstd[t];
      const float gv = g[i];
      const float dy = xhat * wc + bc > 0.0f ? gv : 0.0f;
      dx[i] = rstd[t] * (dy * wc - s1[t] * inv_c - xhat * s2[t] * inv_c);
    }
  }
}

struct ChannelNormReluFunction : public torch::autograd::Function<ChannelNormReluFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& input, const torch::Tensor& weight,
                               const torch::Tensor& bias, double eps) {
    torch::Tensor x = input.contiguous(), w = weight.contiguous(), b = bias.contiguous();
    const int64_t B = x.size(0), C = x.size(1), T = x.size(2);
    torch::Tensor out = torch::empty_like(x, at::MemoryFormat::Contiguous);
    torch::Tensor mean = torch::empty({B, T}, x.options()), rstd = torch::empty({B, T}, x.options());
    const float *px = x.data_ptr<float>(), *pw = w.data_ptr<float>(), *pb = b.data_ptr<float>();
    float *po = out.data_ptr<float>(), *pm = mean.data_ptr<float>(), *pr = rstd.data_ptr<float>();
    at::parallel_for(0, B, 1, [&](int64_t begin, int64_t end) {
      std::vector<float> var(T);
      for (int64_t i = begin; i < end; ++i) {
        ForwardSample(px + i * C * T, pw, pb, po + i * C * T, pm + i * T, pr + i * T, var.data(), C, T,
                      static_cast<float>(eps));
      }
    });
    ctx->save_for_backward({x, w, b, mean, rstd});
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_out) {
    variable_list saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &w = saved[1], &b = saved[2], &mean = saved[3], &rstd = saved[4];
    torch::Tensor g = grad_out[0].contiguous();
    const int64_t B = x.size(0), C = x.size(1), T = x.size(2);
    torch::Tensor dx = torch::empty_like(x);
    // Per-sample channel sums, added up in sample order below: the result does not depend on the thread count.
    torch::Tensor dw_part = torch::empty({B, C}, x.options()), db_part = torch::empty({B, C}, x.options());
    const float *pg = g.data_ptr<float>(), *px = x.data_ptr<float>(), *pb = b.data_ptr<float>();
    const float *pm = mean.data_ptr<float>(), *pr = rstd.data_ptr<float>(), *pw = w.data_ptr<float>();
    float *pdx = dx.data_ptr<float>(), *pdw = dw_part.data_ptr<float>(), *pdb = db_part.data_ptr<float>();
    at::parallel_for(0, B, 1, [&](int64_t begin, int64_t end) {
      std::vector<float> s1(T), s2(T);
      for (int64_t i = begin; i < end; ++i) {
        const int64_t o = i * C * T;
        BackwardSample(pg + o, px + o, pm + i * T, pr + i * T, pw, pb, pdx + o, pdw + i * C, pdb + i * C, s1.data(),
                       s2.data(), C, T);
      }
    });
    torch::Tensor dw = torch::zeros({C}, x.options()), db = torch::zeros({C}, x.options());
    float *sw = dw.data_ptr<float>(), *sb = db.data_ptr<float>();
    for (int64_t i = 0; i < B; ++i) {
      for (int64_t c = 0; c < C; ++c) {
        sw[c] += pdw[i * C + c];
        sb[c] += pdb[i * C + c];
      }
    }
    return {dx, dw, db, torch::Tensor()};
  }
};

}  // namespace

bool ChannelLayerNormReluApplies(const torch::Tensor& x) {
  return x.is_cpu() && x.scalar_type() == torch::kFloat32 && x.dim() == 3;
}

torch::Tensor ChannelLayerNormRelu(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                                   double eps) {
  return ChannelNormReluFunction::apply(x, weight, bias, eps);
}

}  // namespace torchmotion

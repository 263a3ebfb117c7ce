#include "kernels/decode_attention.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <limits>
#include <vector>

#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#include <immintrin.h>
#define TM_DECODE_AVX2 1
#endif

namespace torchmotion {

#ifdef TM_DECODE_AVX2
namespace {

__attribute__((target("avx2,fma"))) float Dot(const float* a, const float* b, int64_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
  }
  __m256 acc = _mm256_add_ps(acc0, acc1);
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  float r = _mm_cvtss_f32(s);
  for (; i < n; ++i) r += a[i] * b[i];
  return r;
}

// out += w · x
__attribute__((target("avx2,fma"))) void Axpy(float w, const float* x, float* out, int64_t n) {
  const __m256 wv = _mm256_set1_ps(w);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i, _mm256_fmadd_ps(wv, _mm256_loadu_ps(x + i), _mm256_loadu_ps(out + i)));
  for (; i < n; ++i) out[i] += w * x[i];
}

}  // namespace
#endif

torch::Tensor DecodeAttention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                              const torch::Tensor& allowed) {
#ifdef TM_DECODE_AVX2
  static const bool supported = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (!supported || q.dim() != 4 || q.size(2) != 1 || !q.device().is_cpu() || q.scalar_type() != torch::kFloat32 ||
      k.scalar_type() != torch::kFloat32 || v.scalar_type() != torch::kFloat32 || k.sizes() != v.sizes() ||
      k.size(3) != q.size(3) || k.stride(3) != 1 || v.stride(3) != 1 || k.stride(2) != k.size(3) ||
      v.stride(2) != v.size(3) || allowed.scalar_type() != torch::kBool) {
    return {};
  }
  const int64_t B = q.size(0), H = q.size(1), S = k.size(2), hd = q.size(3);
  torch::Tensor qc = q.contiguous();
  torch::Tensor mask = allowed.reshape({B, S}).contiguous();
  torch::Tensor out = torch::zeros({B, H, 1, hd}, q.options());
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const float* qp = qc.data_ptr<float>();
  const bool* mp = mask.data_ptr<bool>();
  float* op = out.data_ptr<float>();
  const float* kp = k.data_ptr<float>();
  const float* vp = v.data_ptr<float>();
  at::parallel_for(0, B * H, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> p(S);
    for (int64_t bh = begin; bh < end; ++bh) {
      const int64_t b = bh / H, h = bh % H;
      const float* kb = kp + b * k.stride(0) + h * k.stride(1);
      const float* vb = vp + b * v.stride(0) + h * v.stride(1);
      const bool* m = mp + b * S;
      float top = -std::numeric_limits<float>::infinity();
      for (int64_t s = 0; s < S; ++s) {
        p[s] = m[s] ? Dot(qp + bh * hd, kb + s * hd, hd) * scale : -std::numeric_limits<float>::infinity();
        top = std::max(top, p[s]);
      }
      float sum = 0;
      for (int64_t s = 0; s < S; ++s) sum += (p[s] = m[s] ? std::exp(p[s] - top) : 0.0f);
      float* o = op + bh * hd;
      for (int64_t s = 0; s < S; ++s) {
        if (p[s] != 0.0f) Axpy(p[s] / sum, vb + s * hd, o, hd);
      }
    }
  });
  return out;
#else
  (void)q;
  (void)k;
  (void)v;
  (void)allowed;
  return {};
#endif
}

}  // namespace torchmotion

// The convolution kernels for AVX2 + FMA (native/conv1d_kernels.inc over 8-float vectors): most laptops and desktops,
// and Zen 3 servers, have these and not AVX-512.
#include "kernels/conv1d_isa.h"

#ifdef TM_CONV_X86
#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#define TM_CONV_TARGET __attribute__((target("avx2,fma")))

namespace torchmotion::conv_avx2 {
namespace {

using Vec = __m256;
constexpr int64_t kLanes = 8;
// AVX2 has 16 vector registers: both tiles are 6 rows × 2 vectors (16 steps or input channels), 12 accumulators with
// 2 input vectors and a broadcast in flight. (A 4 × 24 forward tile, which divides the tokenizer's lengths into
// whole tiles, ran slower: one more input load per 12 multiply-adds.)
constexpr int64_t kRows = 6, kVecs = 2;
constexpr int64_t kGradRows = 6, kGradVecs = 2;

TM_CONV_TARGET inline Vec VLoad(const float* p) { return _mm256_loadu_ps(p); }
TM_CONV_TARGET inline void VStore(float* p, Vec v) { _mm256_storeu_ps(p, v); }
TM_CONV_TARGET inline void VStoreFirst(float* p, Vec v, int64_t n) {
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  _mm256_maskstore_ps(p, _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), lanes), v);
}
TM_CONV_TARGET inline Vec VSet1(float f) { return _mm256_set1_ps(f); }
TM_CONV_TARGET inline Vec VZero() { return _mm256_setzero_ps(); }
TM_CONV_TARGET inline Vec VFma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }

// 8 rows of 8 floats (src, rows lds apart) into dst transposed (rows ldd apart): unpack pairs of rows, interleave
// 64-bit pairs, then swap 128-bit halves.
TM_CONV_TARGET void TransposeBlock(const float* src, int64_t lds, float* dst, int64_t ldd) {
  __m256 r[8], t[8];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src + i * lds);
#pragma GCC unroll 4
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
#pragma GCC unroll 2
  for (int i = 0; i < 8; i += 4) {
    r[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    _mm256_storeu_ps(dst + i * ldd, _mm256_permute2f128_ps(r[i], r[i + 4], 0x20));
    _mm256_storeu_ps(dst + (i + 4) * ldd, _mm256_permute2f128_ps(r[i], r[i + 4], 0x31));
  }
}

// dst[t·up + i] = src[t] for t < n, i < up (nearest upsampling, folded into the convolution after it).
TM_CONV_TARGET void RepeatRow(const float* __restrict src, int64_t n, int64_t up, float* __restrict dst) {
  int64_t t = 0;
  if (up == 2) {
    for (; t + 8 <= n; t += 8) {
      const __m256 v = _mm256_loadu_ps(src + t);
      const __m256 lo = _mm256_unpacklo_ps(v, v),
                   hi = _mm256_unpackhi_ps(v, v);  // [0 0 1 1 | 4 4 5 5], [2 2 3 3 | 6 6 7 7]
      _mm256_storeu_ps(dst + 2 * t, _mm256_permute2f128_ps(lo, hi, 0x20));
      _mm256_storeu_ps(dst + 2 * t + 8, _mm256_permute2f128_ps(lo, hi, 0x31));
    }
  }
  for (; t < n; ++t) std::fill(dst + t * up, dst + (t + 1) * up, src[t]);
}

// dst[t] = Σ_{i < up} src[t·up + i] for t < n: the gradient of RepeatRow.
TM_CONV_TARGET void SumRepeats(const float* __restrict src, int64_t n, int64_t up, float* __restrict dst) {
  int64_t t = 0;
  if (up == 2) {
    for (; t + 8 <= n; t += 8) {
      // hadd gives [a0+a1, a2+a3, b0+b1, b2+b3 | a4+a5, a6+a7, b4+b5, b6+b7]; the 64-bit lanes 0, 2, 1, 3 put it in
      // order.
      const __m256 h = _mm256_hadd_ps(_mm256_loadu_ps(src + 2 * t), _mm256_loadu_ps(src + 2 * t + 8));
      _mm256_storeu_ps(dst + t, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(h), 0xD8)));
    }
  }
  for (; t < n; ++t) {
    float sum = 0.0f;
    for (int64_t i = 0; i < up; ++i) sum += src[t * up + i];
    dst[t] = sum;
  }
}

}  // namespace

#include "kernels/conv1d_kernels.inc"

}  // namespace torchmotion::conv_avx2
#endif

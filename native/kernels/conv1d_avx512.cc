// The convolution kernels for AVX-512 (native/conv1d_kernels.inc over 16-float vectors).
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

#define TM_CONV_TARGET __attribute__((target("avx512f")))

namespace torchmotion::conv_avx512 {
namespace {

using Vec = __m512;
constexpr int64_t kLanes = 16;
// Output tile of the forward (and input-gradient) kernel: 8 channels × 48 steps = 24 of the 32 vector registers; per
// input channel and tap it loads 3 vectors of input and broadcasts 8 weights. 48 steps divide both of the tokenizer's
// lengths (96 and 48), so no tile is partly wasted there. (12 × 32 ran as fast at 96 steps and wastes a third at 48.)
constexpr int64_t kRows = 8, kVecs = 3;
// Weight-gradient tile: up to 12 output × 32 input channels, reduced over time steps (measured faster than 8 × 48).
constexpr int64_t kGradRows = 12, kGradVecs = 2;

TM_CONV_TARGET inline Vec VLoad(const float* p) { return _mm512_loadu_ps(p); }
TM_CONV_TARGET inline void VStore(float* p, Vec v) { _mm512_storeu_ps(p, v); }
TM_CONV_TARGET inline void VStoreFirst(float* p, Vec v, int64_t n) {
  _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << n) - 1), v);
}
TM_CONV_TARGET inline Vec VSet1(float f) { return _mm512_set1_ps(f); }
TM_CONV_TARGET inline Vec VZero() { return _mm512_setzero_ps(); }
TM_CONV_TARGET inline Vec VFma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }

// 16 rows of 16 floats (src, rows lds apart) into dst transposed (rows ldd apart), in registers: unpack pairs of
// rows, then interleave 64-bit pairs, then 128-bit lanes twice. GCC 12's unpack/shuffle intrinsics start from
// _mm512_undefined_ps() and warn that it is uninitialised; the warning is about the header, not this code.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
TM_CONV_TARGET void TransposeBlock(const float* src, int64_t lds, float* dst, int64_t ldd) {
  __m512 r[16], t[16];
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_ps(src + i * lds);
#pragma GCC unroll 8
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
#pragma GCC unroll 4
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
#pragma GCC unroll 2
  for (int h = 0; h < 16; h += 8) {
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) {
      t[h + i] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0x88);
      t[h + i + 4] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0xdd);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
    r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd);
  }
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i) _mm512_storeu_ps(dst + i * ldd, r[i]);
}

// dst[t·up + i] = src[t] for t < n, i < up (nearest upsampling, folded into the convolution after it).
TM_CONV_TARGET void RepeatRow(const float* __restrict src, int64_t n, int64_t up, float* __restrict dst) {
  int64_t t = 0;
  if (up == 2) {
    const __m512i lo = _mm512_set_epi32(7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0);
    const __m512i hi = _mm512_set_epi32(15, 15, 14, 14, 13, 13, 12, 12, 11, 11, 10, 10, 9, 9, 8, 8);
    for (; t + 16 <= n; t += 16) {
      const __m512 v = _mm512_loadu_ps(src + t);
      _mm512_storeu_ps(dst + 2 * t, _mm512_permutexvar_ps(lo, v));
      _mm512_storeu_ps(dst + 2 * t + 16, _mm512_permutexvar_ps(hi, v));
    }
  }
  for (; t < n; ++t) std::fill(dst + t * up, dst + (t + 1) * up, src[t]);
}

// dst[t] = Σ_{i < up} src[t·up + i] for t < n: the gradient of RepeatRow.
TM_CONV_TARGET void SumRepeats(const float* __restrict src, int64_t n, int64_t up, float* __restrict dst) {
  int64_t t = 0;
  if (up == 2) {
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
    for (; t + 16 <= n; t += 16) {
      const __m512 a = _mm512_loadu_ps(src + 2 * t), b = _mm512_loadu_ps(src + 2 * t + 16);
      _mm512_storeu_ps(dst + t, _mm512_add_ps(_mm512_permutex2var_ps(a, even, b), _mm512_permutex2var_ps(a, odd, b)));
    }
  }
  for (; t < n; ++t) {
    float sum = 0.0f;
    for (int64_t i = 0; i < up; ++i) sum += src[t * up + i];
    dst[t] = sum;
  }
}
#pragma GCC diagnostic pop

}  // namespace

#include "kernels/conv1d_kernels.inc"

}  // namespace torchmotion::conv_avx512
#endif

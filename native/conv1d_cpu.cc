#include "conv1d_cpu.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <tuple>
#include <vector>

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#include <immintrin.h>
#define TM_CONV_AVX512 1
#endif

namespace torchmotion {

namespace {

// A residual is added element by element to the convolution's output (both paths below), so it must have its shape:
// a wrong one would be read past its end by the kernel, or broadcast silently by LibTorch.
void CheckResidual(const torch::Tensor& residual, const torch::Tensor& y) {
  TORCH_CHECK(!residual.defined() || residual.sizes() == y.sizes(), "conv1d: the residual has shape ", residual.sizes(),
              ", the convolution's output ", y.sizes(), "; a residual is added to the output and must match it");
}

}  // namespace

#ifdef TM_CONV_AVX512
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Output tile of the forward (and input-gradient) kernel: 8 channels × 48 steps = 24 accumulators; per input channel
// and tap it loads 3 vectors of input and broadcasts 8 weights. 48 steps divide both of the tokenizer's lengths
// (96 and 48), so no tile is partly wasted there. (12 × 32 ran as fast at 96 steps and wastes a third at 48.)
constexpr int64_t kRows = 8, kVecs = 3, kCols = kVecs * 16;
// Weight-gradient tile: up to 12 output × 32 input channels, reduced over time steps (measured faster than 8 × 48).
constexpr int64_t kGradRows = 12, kGradVecs = 2, kGradCols = kGradVecs * 16;
// Time steps of transposed input packed at once for the weight gradient: 192 steps of 512 channels (~0.4 MB) stay in
// a 1 MB L2 across all tiles (the output gradient is read in place).
constexpr int64_t kGradSteps = 192;

int64_t RoundUp(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

// Threads for n independent items: at::parallel_for over [0, workers) with grain 1 gives each thread one index, and
// the threads then take items from a shared counter (in a nested region it calls once with the whole range, and the
// one thread takes them all).
int64_t Workers(int64_t n) { return std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), n)); }

template <int VECS>
__attribute__((target("avx512f"))) inline void StoreRow(float* y, const __m512* a, int64_t cols) {
#pragma GCC unroll 3
  for (int j = 0; j < VECS; ++j) {
    const int64_t n = cols - 16 * j;
    if (n >= 16) {
      _mm512_storeu_ps(y + 16 * j, a[j]);
    } else if (n > 0) {
      _mm512_mask_storeu_ps(y + 16 * j, static_cast<__mmask16>((1u << n) - 1), a[j]);
    }
  }
}

// How a tile finds the weight of its output row r, input channel c and tap k: w[c·in + ...] as below.
//   kPacked: [c][k][8 rows] (+ k·8 + r), the forward's weights as PackWeights lays them out, read sequentially.
//   kReversed: the input gradient's, a convolution of the output gradient with the weights transposed and reversed:
//     w[o][c][K − 1 − k] with output rows c and input channels o, read in place (+ r·K − k, w at tap K − 1, in = C·K):
//     a tile's 8 rows and K taps are 8·K adjacent floats, so these tiles run as fast as packed ones, and the transposed
//     copy every backward (~2 % of a two-thread step; perf, docs/benchmarks.md) is gone.
//   kReversedRows: the same for a last block of fewer than 8 rows, from 8 row pointers (rows past the last repeat it).
// The forward keeps its packed copy (~0.5 % of a step): read in place, its 8 rows are 8 streams C·K floats apart, and
// its tiles ran ~10 % slower that way (perf on two threads, docs/benchmarks.md).
enum Order { kPacked, kReversed, kReversedRows };
struct Weights {
  const float* w;
  int64_t in;
};

// y[r][0, cols) = bias[r] + Σ_c Σ_k W(r, c, k) · x[c][t + k·dil] for r < rows. x points at the tile's first column
// of padded rows ldx apart; the tile always reads 16·VECS + (K − 1)·dil columns, so the rows carry that slack. KT is
// the kernel size when it is 1, 2 or 3 (the loop over taps then unrolls), 0 for any other. VECS is 3 except for a
// length's last few steps (evaluation and encoding run whole clips of any length), so a tail of 1–32 steps does not
// cost a whole 48-step tile.
template <int KT, int VECS, Order ORDER>
__attribute__((target("avx512f"), noinline)) void ForwardTile(Weights wt, const float* __restrict x, int64_t ldx, int64_t cin, int64_t k_runtime,
                                                               int64_t dil, const float* __restrict bias, float* __restrict y, int64_t ldy,
                                                               int64_t rows, int64_t cols) {
  const int64_t K = KT ? KT : k_runtime;
  const float* row[kRows];  // kReversedRows
  __m512 a[kRows][VECS];
  // Every loop over the tile is unrolled (also at -O2) so the accumulators live in registers.
#pragma GCC unroll 8
  for (int r = 0; r < kRows; ++r) {
    row[r] = wt.w + std::min<int64_t>(r, rows - 1) * K;
    const __m512 b = _mm512_set1_ps(bias[r]);
#pragma GCC unroll 3
    for (int j = 0; j < VECS; ++j) a[r][j] = b;
  }
  for (int64_t c = 0; c < cin; ++c) {
    const float* xc = x + c * ldx;
    const int64_t wc = c * wt.in;
    for (int64_t k = 0; k < K; ++k) {
      const float* xk = xc + k * dil;
      __m512 xv[VECS];
#pragma GCC unroll 3
      for (int j = 0; j < VECS; ++j) xv[j] = _mm512_loadu_ps(xk + 16 * j);
#pragma GCC unroll 8
      for (int r = 0; r < kRows; ++r) {
        const float* wp = ORDER == kPacked ? wt.w + wc + k * kRows + r : ORDER == kReversed ? wt.w + wc + r * K - k : row[r] + wc - k;
        const __m512 wv = _mm512_set1_ps(*wp);
#pragma GCC unroll 3
        for (int j = 0; j < VECS; ++j) a[r][j] = _mm512_fmadd_ps(wv, xv[j], a[r][j]);
      }
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < kRows; ++r) {
    if (r < rows) StoreRow<VECS>(y + r * ldy, a[r], cols);
  }
}

using ForwardTileFn = void (*)(Weights, const float*, int64_t, int64_t, int64_t, int64_t, const float*, float*, int64_t, int64_t, int64_t);
template <Order ORDER>
struct TileTable {
  // [taps: 0 (any), 1, 2, 3][vectors − 1]
  static constexpr ForwardTileFn tiles[4][kVecs] = {{ForwardTile<0, 1, ORDER>, ForwardTile<0, 2, ORDER>, ForwardTile<0, 3, ORDER>},
                                                    {ForwardTile<1, 1, ORDER>, ForwardTile<1, 2, ORDER>, ForwardTile<1, 3, ORDER>},
                                                    {ForwardTile<2, 1, ORDER>, ForwardTile<2, 2, ORDER>, ForwardTile<2, 3, ORDER>},
                                                    {ForwardTile<3, 1, ORDER>, ForwardTile<3, 2, ORDER>, ForwardTile<3, 3, ORDER>}};
};

// acc[r][0, 32) (+)= Σ_segments Σ_t g[r][t] · x[t][0, 32) for r < ROWS: g is the output gradient in its own layout
// (channel rows ldg apart, time contiguous: its values are broadcast, so it needs no transposing), x the input
// transposed (time rows shifted by the tap, input channels contiguous, zero-padded to whole tiles). `first` starts
// from zero instead of reading acc.
template <int ROWS>
__attribute__((target("avx512f"), noinline)) void GradTile(const float* __restrict g, int64_t ldg, const float* __restrict x, int64_t ldx,
                                                          int64_t steps, int64_t segments, int64_t g_stride, int64_t x_stride,
                                                          float* __restrict acc, int64_t lda, bool first) {
  __m512 a[ROWS][kGradVecs];
#pragma GCC unroll 12
  for (int r = 0; r < ROWS; ++r) {
#pragma GCC unroll 2
    for (int j = 0; j < kGradVecs; ++j) a[r][j] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(acc + r * lda + 16 * j);
  }
  for (int64_t s = 0; s < segments; ++s, g += g_stride, x += x_stride) {
    for (int64_t t = 0; t < steps; ++t) {
      __m512 xv[kGradVecs];
#pragma GCC unroll 2
      for (int j = 0; j < kGradVecs; ++j) xv[j] = _mm512_loadu_ps(x + t * ldx + 16 * j);
#pragma GCC unroll 12
      for (int r = 0; r < ROWS; ++r) {
        const __m512 gv = _mm512_set1_ps(g[r * ldg + t]);
#pragma GCC unroll 2
        for (int j = 0; j < kGradVecs; ++j) a[r][j] = _mm512_fmadd_ps(gv, xv[j], a[r][j]);
      }
    }
  }
#pragma GCC unroll 12
  for (int r = 0; r < ROWS; ++r) {
#pragma GCC unroll 2
    for (int j = 0; j < kGradVecs; ++j) _mm512_storeu_ps(acc + r * lda + 16 * j, a[r][j]);
  }
}

using GradTileFn = void (*)(const float*, int64_t, const float*, int64_t, int64_t, int64_t, int64_t, int64_t, float*, int64_t, bool);
constexpr GradTileFn kGradTiles[] = {GradTile<1>, GradTile<2>, GradTile<3>, GradTile<4>, GradTile<5>,  GradTile<6>,
                                     GradTile<7>, GradTile<8>, GradTile<9>, GradTile<10>, GradTile<11>, GradTile<12>};
static_assert(sizeof(kGradTiles) / sizeof(kGradTiles[0]) == kGradRows, "one weight-gradient tile per row count");

// 16 rows of 16 floats (src, rows lds apart) into dst transposed (rows ldd apart), in registers: unpack pairs of
// rows, then interleave 64-bit pairs, then 128-bit lanes twice. GCC 12's unpack/shuffle intrinsics start from
// _mm512_undefined_ps() and warn that it is uninitialised; the warning is about the header, not this code.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
__attribute__((target("avx512f"))) void Transpose16(const float* src, int64_t lds, float* dst, int64_t ldd) {
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
#pragma GCC diagnostic pop

// The forward's weights (O, C, K) as the kPacked tiles read them: [O / 8][C][K][8], zero rows past the last output
// channel.
torch::Tensor PackWeights(const torch::Tensor& w) {
  const int64_t O = w.size(0), C = w.size(1), K = w.size(2), blocks = (O + kRows - 1) / kRows;
  torch::Tensor out = torch::empty({blocks * C * K * kRows}, torch::kFloat32);
  float* packed = out.data_ptr<float>();
  const float* pw = w.data_ptr<float>();
  at::parallel_for(0, blocks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      for (int64_t r = 0; r < kRows; ++r) {
        const int64_t o = b * kRows + r;
        float* dst = packed + b * C * K * kRows + r;
        for (int64_t i = 0; i < C * K; ++i) dst[i * kRows] = o < O ? pw[o * C * K + i] : 0.0f;
      }
    }
  });
  return out;
}

// A convolution's weights for ConvolveRows: either a packed copy (the forward) or, for the input gradient, the
// weights w (O, C, K) in place, `ld` floats per o (C·K, or more when w is a slice of a tensor with more channels).
struct Layout {
  torch::Tensor packed;
  const float* w;
  int64_t ld;
};

Layout ForwardLayout(const torch::Tensor& w) { return {PackWeights(w), nullptr, 0}; }
Layout InputGradLayout(const float* w, int64_t ld) { return {torch::Tensor(), w, ld}; }

struct ConvShape {
  int64_t batch, cin, steps, cout, taps, pad, dil;
  int64_t out_steps() const { return steps + 2 * pad - dil * (taps - 1); }
};

// Σ of n floats in 16 partial sums (one float accumulator would be a serial chain the compiler cannot vectorise).
float RowSum(const float* __restrict v, int64_t n) {
  float lanes[16] = {};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    for (int j = 0; j < 16; ++j) lanes[j] += v[i + j];
  }
  float sum = 0.0f;
  for (int j = 0; j < 16; ++j) sum += lanes[j];
  for (; i < n; ++i) sum += v[i];
  return sum;
}

// The forward kernel over a batch: sample b's s.cin input rows are built by fill(b, rows, ldx) in a per-thread buffer
// (padding zeros, the data, zeros to the tile's slack); its s.cout × T_out output goes to out(b, scratch): its place
// in y or, with scratch_out, a per-thread buffer (T_out per row), after which done(b, written) runs. Buffers are
// tensors so that they come from the caching CPU allocator (native/cpu_allocator.cc): fresh memory page-faults on
// every call, which cost more than the arithmetic on a VM. `first`, if given, runs on each thread of the parallel
// region before it takes samples, with the thread's index there (0 … Workers(s.batch) − 1): a fixed share of other
// work (the weight gradient's parts) whose uneven finish the samples then even out.
template <typename Fill, typename Out, typename Done>
void ConvolveRows(const ConvShape& s, int64_t T_out, int64_t ldx, const Layout& lw, const float* bias, bool scratch_out, Fill fill,
                  Out out, Done done, const std::function<void(int64_t)>& first = nullptr) {
  const int64_t blocks = (s.cout + kRows - 1) / kRows;
  std::vector<float> bias_padded(blocks * kRows, 0.0f);
  if (bias != nullptr) std::copy(bias, bias + s.cout, bias_padded.begin());
  const int64_t kt = s.taps <= 3 ? s.taps : 0;
  const float* packed = lw.packed.defined() ? lw.packed.data_ptr<float>() : nullptr;
  // Samples are handed out one at a time from a shared counter rather than as fixed halves: on a shared machine one
  // core is often slower for a while, and a fixed split makes the other wait for it at every layer. Each sample's
  // result does not depend on which thread computes it.
  std::atomic<int64_t> next{0};
  at::parallel_for(0, Workers(s.batch), 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end && first; ++i) first(i);
    torch::Tensor buffer = torch::empty({s.cin * ldx + (scratch_out ? s.cout * T_out : 0)}, torch::kFloat32);
    float* xp = buffer.data_ptr<float>();
    float* scratch = xp + s.cin * ldx;
    for (int64_t b = next++; b < s.batch; b = next++) {
      fill(b, xp, ldx);
      float* yb = out(b, scratch);
      for (int64_t blk = 0; blk < blocks; ++blk) {
        const int64_t rows = std::min(kRows, s.cout - blk * kRows);
        // Block blk's weights: its part of the packed copy, or its first row's last tap in w.
        const Weights wb = packed != nullptr ? Weights{packed + blk * s.cin * s.taps * kRows, s.taps * kRows}
                                             : Weights{lw.w + blk * kRows * s.taps + s.taps - 1, lw.ld};
        const ForwardTileFn* tiles = (packed != nullptr ? TileTable<kPacked>::tiles
                                      : rows == kRows   ? TileTable<kReversed>::tiles
                                                        : TileTable<kReversedRows>::tiles)[kt];
        for (int64_t t0 = 0; t0 < T_out; t0 += kCols) {
          const int64_t cols = std::min(kCols, T_out - t0);
          tiles[(cols + 15) / 16 - 1](wb, xp + t0, ldx, s.cin, s.taps, s.dil, bias_padded.data() + blk * kRows,
                                      yb + blk * kRows * T_out + t0, T_out, rows, cols);
        }
      }
      done(b, yb);
    }
  });
}

// Nearest-neighbour upsampling by `up` folded into the convolution that follows it (the decoder's Upsample + Conv):
// the upsampled signal exists only as the kernel's padded rows, never as a (B, C, up·T) tensor, and its gradient is
// summed back to x's length as the input-gradient rows come out of the kernel. A separate Upsample cost 8.7 ms of a
// two-thread tokenizer step (forward 1.7, backward 7.0: tokenizer-profile.ts) and kept the upsampled tensor for the
// backward.
//
// dst[t·up + i] = src[t] for t < n, i < up. (The permute intrinsics start from _mm512_undefined_ps(), like the
// shuffles of Transpose16, and GCC 12 warns about the header the same way.)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
__attribute__((target("avx512f"))) void RepeatRow(const float* __restrict src, int64_t n, int64_t up, float* __restrict dst) {
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
__attribute__((target("avx512f"))) void SumRepeats(const float* __restrict src, int64_t n, int64_t up, float* __restrict dst) {
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

// One row of padded input: `left` zeros, n values (each repeated `up` times), zeros up to ldx.
void PadRow(float* row, int64_t ldx, int64_t left, const float* src, int64_t n, int64_t up = 1) {
  std::fill(row, row + left, 0.0f);
  if (up == 1) {
    std::memcpy(row + left, src, n * sizeof(float));
  } else {
    RepeatRow(src, n, up, row + left);
  }
  std::fill(row + left + n * up, row + ldx, 0.0f);
}

// One sample's `rows` rows of `steps` values (src, upsampled by `up`) padded into xp. With sums, each row's sum over
// time is written there on the way: when the rows are the output gradient (the input-gradient convolution), those sums
// are the bias gradient's, per sample (BiasGrad adds them up in sample order).
void PadRows(const float* src, int64_t rows, int64_t steps, int64_t left, float* xp, int64_t ld, float* sums, int64_t up = 1) {
  for (int64_t c = 0; c < rows; ++c) {
    PadRow(xp + c * ld, ld, left, src + c * steps, steps, up);
    if (sums != nullptr) sums[c] = RowSum(src + c * steps, steps);
  }
}

// The bias gradient from per-sample sums of the output gradient's rows (B × cout), written by whichever pass reads g
// first: PadRows in the input gradient, or the weight gradient when no input gradient runs (the network's first
// layer; g.sum over batch and time there was a separate pass over g, 2.6 ms of a two-thread tokenizer step). When
// neither ran (`summed` false), from g itself.
torch::Tensor BiasGrad(const torch::Tensor& sums, bool summed, const torch::Tensor& g) {
  return summed ? sums.sum(0) : g.sum(std::vector<int64_t>{0, 2});
}

// y (B, cout, out_steps) = conv(x (B, cin, steps)) with weights lw and a bias per output channel (may be null);
// with row_sums (B × cin floats), PadRows' sums of x's rows. With up > 1, x holds steps / up values per row, upsampled
// on the way into the kernel's rows. With residual (y's shape), y = conv + residual: each sample's output is still in
// cache when its residual is added, where a separate add (the residual blocks' `h + x`) read y back from memory and
// wrote a third tensor (~4 ms of a two-thread tokenizer step with aten::add's other calls: tokenizer-profile.ts).
void Convolve(const float* x, const Layout& lw, const float* bias, const ConvShape& s, float* y, float* row_sums = nullptr,
              int64_t up = 1, const float* residual = nullptr, const std::function<void(int64_t)>& first = nullptr) {
  const int64_t T_out = s.out_steps(), ldx = RoundUp(T_out, kCols) + s.dil * (s.taps - 1), steps_in = s.steps / up, size = s.cout * T_out;
  ConvolveRows(
      s, T_out, ldx, lw, bias, false,
      [&](int64_t b, float* xp, int64_t ld) {
        PadRows(x + b * s.cin * steps_in, s.cin, steps_in, s.pad, xp, ld, row_sums != nullptr ? row_sums + b * s.cin : nullptr, up);
      },
      [&](int64_t b, float*) { return y + b * size; },
      [&](int64_t b, const float*) {
        if (residual == nullptr) return;
        float* __restrict yb = y + b * size;
        const float* __restrict rb = residual + b * size;
        for (int64_t i = 0; i < size; ++i) yb[i] += rb[i];
      },
      first);
}

// Rows [row0, row0 + steps) of dst (ld floats each) take src (channels × steps) transposed; other entries untouched.
void Transpose(const float* src, int64_t channels, int64_t steps, float* dst, int64_t ld, int64_t row0) {
  const int64_t full_c = channels / 16 * 16, full_t = steps / 16 * 16;
  for (int64_t c0 = 0; c0 < full_c; c0 += 16) {
    for (int64_t t0 = 0; t0 < full_t; t0 += 16) Transpose16(src + c0 * steps + t0, steps, dst + (row0 + t0) * ld + c0, ld);
  }
  // Edges (fewer than 16 channels or steps left) element by element.
  for (int64_t t = 0; t < steps; ++t) {
    float* d = dst + (row0 + t) * ld;
    for (int64_t c = t < full_t ? full_c : 0; c < channels; ++c) d[c] = src[c * steps + t];
  }
}

// dw (cout, cin, taps) = Σ_b Σ_t g[b][o][t] · x_padded[b][c][t + k·dil], where rows(b, scratch) gives sample b's
// input as cin rows of s.steps (x itself, or, with build_rows, rows it builds in scratch: s.cin × s.steps floats).
// The batch is cut into one part per thread (a fixed split for a given thread count, summed in part order: the
// result does not depend on scheduling); each part packs up to kGradSteps steps of transposed input and runs every
// tile over them. With row_sums (B × cout floats), each sample's output-gradient rows are summed there on the way.
// Run(part) computes one part, on whichever thread; Sum() then adds the parts up. The split is fixed so that the sums
// do not depend on scheduling, but on a shared machine a thread is often slower for a while and the other then waits
// for it: the backward therefore runs the parts inside the input gradient's parallel region (ConvolveRows' `first`),
// whose samples, handed out one at a time, even out the finish (docs/benchmarks.md).
template <typename Rows>
class WeightGrad {
 public:
  WeightGrad(const float* g, const ConvShape& s, bool build_rows, Rows rows, float* row_sums)
      : g_(g), s_(s), build_rows_(build_rows), rows_(std::move(rows)), row_sums_(row_sums), T_out_(s.out_steps()),
        padded_steps_(s.steps + 2 * s.pad), cinp_(RoundUp(s.cin, kGradCols)), per_chunk_(std::max<int64_t>(1, kGradSteps / T_out_)),
        parts_(Workers(s.batch)), sum_size_(s.taps * s.cout * cinp_),
        sums_(torch::empty({parts_, sum_size_}, torch::kFloat32)) {}  // every part's first chunk writes its sums whole

  void Run(int64_t part) {
    const ConvShape& s = s_;
    const int64_t cinp = cinp_, padded_steps = padded_steps_, T_out = T_out_;
    torch::Tensor xt_buffer = torch::empty({per_chunk_ * padded_steps * cinp}, torch::kFloat32);
    torch::Tensor scratch_buffer = torch::empty({build_rows_ ? s.cin * s.steps : 0}, torch::kFloat32);
    float *xt = xt_buffer.data_ptr<float>(), *scratch = scratch_buffer.data_ptr<float>();
    // Zeros where Transpose writes nothing: each sample's padding rows (time steps outside the input) and the channel
    // columns past cin. The columns only feed sums that the reduction never reads, but left as they were they could
    // hold denormals or NaNs, which slow some CPUs' FMAs. (Zeroing the whole buffer was ~17 MB of fills a two-thread
    // tokenizer step.)
    for (int64_t i = 0; i < per_chunk_; ++i) {
      float* block = xt + i * padded_steps * cinp;
      std::fill(block, block + s.pad * cinp, 0.0f);
      std::fill(block + (s.pad + s.steps) * cinp, block + padded_steps * cinp, 0.0f);
      for (int64_t t = s.pad; t < s.pad + s.steps && cinp > s.cin; ++t) std::fill(block + t * cinp + s.cin, block + (t + 1) * cinp, 0.0f);
    }
    float* acc = sums_.data_ptr<float>() + part * sum_size_;
    const int64_t lo = part * s.batch / parts_, hi = (part + 1) * s.batch / parts_;
    for (int64_t b0 = lo; b0 < hi; b0 += per_chunk_) {
      const int64_t n = std::min(per_chunk_, hi - b0);
      for (int64_t i = 0; i < n; ++i) Transpose(rows_(b0 + i, scratch), s.cin, s.steps, xt + i * padded_steps * cinp, cinp, s.pad);
      const float* gb = g_ + b0 * s.cout * T_out;
      if (row_sums_ != nullptr) {
        for (int64_t i = 0; i < n * s.cout; ++i) row_sums_[b0 * s.cout + i] = RowSum(gb + i * T_out, T_out);
      }
      for (int64_t k = 0; k < s.taps; ++k) {
        for (int64_t o = 0; o < s.cout; o += kGradRows) {
          const GradTileFn tile = kGradTiles[std::min(kGradRows, s.cout - o) - 1];
          for (int64_t c = 0; c < cinp; c += kGradCols) {
            tile(gb + o * T_out, T_out, xt + k * s.dil * cinp + c, cinp, T_out, n, s.cout * T_out, padded_steps * cinp,
                 acc + (k * s.cout + o) * cinp + c, cinp, b0 == lo);
          }
        }
      }
    }
  }

  // The parts' sums, in part order, into LibTorch's (cout, cin, taps) layout; split across threads by output channel.
  // Each channel's taps are summed as whole rows (vectorised) into a small buffer, then interleaved.
  torch::Tensor Sum() const {
    const ConvShape& s = s_;
    const float* psums = sums_.data_ptr<float>();
    torch::Tensor dw = torch::empty({s.cout, s.cin, s.taps}, torch::kFloat32);
    float* pdw = dw.data_ptr<float>();
    at::parallel_for(0, s.cout, 16, [&](int64_t begin, int64_t end) {
      std::vector<float> rows(s.taps * s.cin);
      for (int64_t o = begin; o < end; ++o) {
        for (int64_t k = 0; k < s.taps; ++k) {
          const float* first = psums + (k * s.cout + o) * cinp_;
          float* __restrict row = rows.data() + k * s.cin;
          std::copy(first, first + s.cin, row);
          for (int64_t part = 1; part < parts_; ++part) {
            const float* __restrict more = first + part * sum_size_;
            for (int64_t c = 0; c < s.cin; ++c) row[c] += more[c];
          }
        }
        float* out = pdw + o * s.cin * s.taps;
        for (int64_t c = 0; c < s.cin; ++c) {
          for (int64_t k = 0; k < s.taps; ++k) out[c * s.taps + k] = rows[k * s.cin + c];
        }
      }
    });
    return dw;
  }

  // Every part in a parallel region of its own, then the sum: when there is no input gradient to share one with.
  torch::Tensor RunAlone() {
    at::parallel_for(0, parts_, 1, [&](int64_t begin, int64_t end) {
      for (int64_t part = begin; part < end; ++part) Run(part);
    });
    return Sum();
  }

 private:
  const float* g_;
  ConvShape s_;
  bool build_rows_;
  Rows rows_;
  float* row_sums_;
  int64_t T_out_, padded_steps_, cinp_, per_chunk_, parts_, sum_size_;
  torch::Tensor sums_;
};

// The parts of a weight gradient, if there is one, as ConvolveRows' `first` hook.
template <typename Rows>
std::function<void(int64_t)> PartsOf(std::optional<WeightGrad<Rows>>& grad_w) {
  if (!grad_w) return nullptr;
  return [&grad_w](int64_t part) { grad_w->Run(part); };
}

// The shape of the convolution over x upsampled by `up` (x itself when up is 1).
ConvShape ShapeOf(const torch::Tensor& x, const torch::Tensor& w, int64_t pad, int64_t dil, int64_t up) {
  return {x.size(0), x.size(1), up * x.size(2), w.size(0), w.size(2), pad, dil};
}

torch::Tensor ConvForward(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b, int64_t pad, int64_t dil, int64_t up,
                          const torch::Tensor& residual) {
  const ConvShape s = ShapeOf(x, w, pad, dil, up);
  torch::Tensor y = torch::empty({s.batch, s.cout, s.out_steps()}, x.options());
  CheckResidual(residual, y);
  Convolve(x.data_ptr<float>(), ForwardLayout(w), b.defined() ? b.data_ptr<float>() : nullptr, s, y.data_ptr<float>(), nullptr, up,
           residual.defined() ? residual.data_ptr<float>() : nullptr);
  return y;
}

// {dx, dw, db} of a stride-1 convolution (of x upsampled by up) for the output gradient g; each may be skipped
// (undefined).
std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> ConvBackward(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& g,
                                                                     int64_t pad, int64_t dil, int64_t up, bool need_dx, bool need_dw,
                                                                     bool need_db) {
  const ConvShape s = ShapeOf(x, w, pad, dil, up);
  const int64_t T = x.size(2);
  torch::Tensor dx, dw, db;
  torch::Tensor sums = need_db ? torch::empty({s.batch, s.cout}, torch::kFloat32) : torch::Tensor();
  const float* px = x.data_ptr<float>();
  auto rows = [px, &s, T, up](int64_t b, float* scratch) {
    const float* xb = px + b * s.cin * T;
    if (up == 1) return xb;
    PadRows(xb, s.cin, T, 0, scratch, s.steps, nullptr, up);
    return static_cast<const float*>(scratch);
  };
  std::optional<WeightGrad<decltype(rows)>> grad_w;
  if (need_dw) grad_w.emplace(g.data_ptr<float>(), s, up > 1, rows, need_db && !need_dx ? sums.data_ptr<float>() : nullptr);
  const std::function<void(int64_t)> parts = PartsOf(grad_w);
  if (need_dx) {
    // The input gradient is the convolution of g with the transposed, reversed weights and the complementary padding;
    // it reads every row of g, so the bias gradient's sums come with it. Upsampled, each sample's rows come out in a
    // per-thread buffer and their groups of `up` steps are summed into dx.
    dx = torch::empty_like(x);
    const ConvShape back{s.batch, s.cout, s.out_steps(), s.cin, s.taps, dil * (s.taps - 1) - pad, dil};
    const float* pg = g.data_ptr<float>();
    float *pdx = dx.data_ptr<float>(), *psums = need_db ? sums.data_ptr<float>() : nullptr;
    const Layout lw = InputGradLayout(w.data_ptr<float>(), s.cin * s.taps);
    if (up == 1) {
      Convolve(pg, lw, nullptr, back, pdx, psums, 1, nullptr, parts);
    } else {
      const int64_t T_up = back.out_steps(), ldx = RoundUp(T_up, kCols) + dil * (s.taps - 1);
      ConvolveRows(
          back, T_up, ldx, lw, nullptr, true,
          [&](int64_t b, float* xp, int64_t ld) {
            PadRows(pg + b * back.cin * back.steps, back.cin, back.steps, back.pad, xp, ld, psums != nullptr ? psums + b * back.cin : nullptr);
          },
          [](int64_t, float* scratch) { return scratch; },
          [&](int64_t b, const float* out) {
            for (int64_t c = 0; c < s.cin; ++c) SumRepeats(out + c * T_up, T, up, pdx + (b * s.cin + c) * T);
          },
          parts);
    }
    if (grad_w) dw = grad_w->Sum();
  } else if (grad_w) {
    dw = grad_w->RunAlone();
  }
  if (need_db) db = BiasGrad(sums, need_dx || need_dw, g);
  return {dx, dw, db};
}

int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// Stride s > 1 as a stride-1 convolution: tap k reads x[s·t + k − pad]; with k − pad = s·a + r (0 ≤ r < s) that is
// phase r of x (x[s·j + r]) at j = t + a. Stacking the s phases as channels, each shifted by its smallest a, gives a
// convolution with ceil(K / s) taps, no padding and the same arithmetic (the tokenizer's k4 s2 down-sampling: 1024
// channels of 49 steps, 2 taps). The phases are built per sample in the kernels' own buffers, never as a tensor.
// Every input position lies in exactly one phase, so the input gradient is one stride-1 convolution per phase whose
// output is scattered back with stride s.
struct Phases {
  int64_t stride, pad, kernel, taps, length;  // length: steps per phase (output steps + taps − 1)
  std::vector<int64_t> shift;                 // phase r holds x[s·(j + shift[r]) + r], 0 ≤ j < length
};

Phases PlanPhases(int64_t T, int64_t K, int64_t stride, int64_t pad) {
  Phases p{stride, pad, K, 1, 0, std::vector<int64_t>(stride, INT64_MAX)};
  std::vector<int64_t> last(stride, INT64_MIN);
  for (int64_t k = 0; k < K; ++k) {
    const int64_t a = FloorDiv(k - pad, stride), r = k - pad - stride * a;
    p.shift[r] = std::min(p.shift[r], a);
    last[r] = std::max(last[r], a);
  }
  for (int64_t r = 0; r < stride; ++r) {
    if (p.shift[r] == INT64_MAX) p.shift[r] = last[r] = 0;  // no tap reads this phase (K < s): its weights are zero
    p.taps = std::max(p.taps, last[r] - p.shift[r] + 1);
  }
  p.length = (T + 2 * pad - K) / stride + p.taps;
  return p;
}

// Sample xb (C × T) as s·C phase rows of p.length steps (row r·C + c is phase r of channel c, zero outside x),
// each row ld floats, zeros after the phase.
void PhaseRows(const float* xb, int64_t C, int64_t T, const Phases& p, float* out, int64_t ld) {
  for (int64_t r = 0; r < p.stride; ++r) {
    for (int64_t c = 0; c < C; ++c) {
      float* row = out + (r * C + c) * ld;
      const float* src = xb + c * T;
      for (int64_t j = 0; j < p.length; ++j) {
        const int64_t pos = p.stride * (j + p.shift[r]) + r;
        row[j] = pos >= 0 && pos < T ? src[pos] : 0.0f;
      }
      std::fill(row + p.length, row + ld, 0.0f);
    }
  }
}

// w (O, C, K) → (O, s·C, taps) for the phase convolution, zero where a phase has fewer taps; with `back`, its
// gradient the other way.
torch::Tensor PhaseWeights(const torch::Tensor& w, const Phases& p, bool back) {
  const int64_t O = w.size(0), C = back ? w.size(1) / p.stride : w.size(1);
  torch::Tensor out = back ? torch::empty({O, C, p.kernel}, w.options()) : torch::zeros({O, p.stride * C, p.taps}, w.options());
  const float* src = w.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  for (int64_t o = 0; o < O; ++o) {
    for (int64_t r = 0; r < p.stride; ++r) {
      for (int64_t j = 0; j < p.taps; ++j) {
        const int64_t k = p.stride * (p.shift[r] + j) + r + p.pad;
        if (k < 0 || k >= p.kernel) continue;
        for (int64_t c = 0; c < C; ++c) {
          const int64_t phased = (o * p.stride * C + r * C + c) * p.taps + j, plain = (o * C + c) * p.kernel + k;
          if (back) {
            dst[plain] = src[phased];
          } else {
            dst[phased] = src[plain];
          }
        }
      }
    }
  }
  return out;
}

torch::Tensor StridedForward(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b, int64_t stride, int64_t pad) {
  const int64_t B = x.size(0), C = x.size(1), T = x.size(2), O = w.size(0);
  const Phases p = PlanPhases(T, w.size(2), stride, pad);
  const ConvShape s{B, stride * C, p.length, O, p.taps, 0, 1};
  const int64_t T_out = s.out_steps(), ldx = RoundUp(T_out, kCols) + p.taps - 1;
  const torch::Tensor phased = PhaseWeights(w, p, false);
  torch::Tensor y = torch::empty({B, O, T_out}, x.options());
  const float* px = x.data_ptr<float>();
  float* py = y.data_ptr<float>();
  ConvolveRows(
      s, T_out, ldx, ForwardLayout(phased), b.data_ptr<float>(), false,
      [&](int64_t i, float* xp, int64_t ld) { PhaseRows(px + i * C * T, C, T, p, xp, ld); },
      [&](int64_t i, float*) { return py + i * O * T_out; }, [](int64_t, const float*) {});
  return y;
}

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> StridedBackward(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& g,
                                                                        int64_t stride, int64_t pad, bool need_dx, bool need_dw, bool need_db) {
  const int64_t B = x.size(0), C = x.size(1), T = x.size(2), O = w.size(0), T_out = g.size(2);
  const Phases p = PlanPhases(T, w.size(2), stride, pad);
  const float *px = x.data_ptr<float>(), *pg = g.data_ptr<float>();
  torch::Tensor dx, dw, db;
  torch::Tensor sums = need_db ? torch::empty({B, O}, torch::kFloat32) : torch::Tensor();
  // The weight gradient is that of the phase convolution; its parts run in the first phase's input-gradient region.
  auto rows = [px, C, T, &p](int64_t i, float* scratch) {
    PhaseRows(px + i * C * T, C, T, p, scratch, p.length);
    return static_cast<const float*>(scratch);
  };
  std::optional<WeightGrad<decltype(rows)>> grad_w;
  if (need_dw) grad_w.emplace(pg, ConvShape{B, stride * C, p.length, O, p.taps, 0, 1}, true, rows, need_db && !need_dx ? sums.data_ptr<float>() : nullptr);
  const std::function<void(int64_t)> parts = PartsOf(grad_w);
  if (need_dx) {
    const torch::Tensor phased = PhaseWeights(w, p, false);
    dx = torch::empty_like(x);
    float* pdx = dx.data_ptr<float>();
    for (int64_t r = 0; r < stride; ++r) {
      // Phase r's positions s·j + r (j < n) take Σ_o Σ_k w'[o][r·C + c][k] · g[o][j − shift_r − k]: a convolution of g
      // with the phase's weights reversed and shift_r + taps − 1 steps of padding on the left.
      const int64_t n = (T - r + stride - 1) / stride, left = p.shift[r] + p.taps - 1;
      const ConvShape s{B, O, T_out, C, p.taps, left, 1};
      const int64_t ldx = std::max(RoundUp(n, kCols) + p.taps - 1, left + T_out);
      float* row_sums = need_db && r == 0 ? sums.data_ptr<float>() : nullptr;
      ConvolveRows(
          s, n, ldx, InputGradLayout(phased.data_ptr<float>() + r * C * p.taps, stride * C * p.taps), nullptr, true,
          [&](int64_t i, float* xp, int64_t ld) {
            PadRows(pg + i * O * T_out, O, T_out, left, xp, ld, row_sums != nullptr ? row_sums + i * O : nullptr);
          },
          [](int64_t, float* scratch) { return scratch; },
          [&](int64_t i, const float* out) {
            for (int64_t c = 0; c < C; ++c) {
              float* dst = pdx + (i * C + c) * T + r;
              for (int64_t j = 0; j < n; ++j) dst[j * stride] = out[c * n + j];
            }
          },
          r == 0 ? parts : nullptr);
    }
  }
  if (grad_w) dw = PhaseWeights(need_dx ? grad_w->Sum() : grad_w->RunAlone(), p, true);
  if (need_db) db = BiasGrad(sums, need_dx || need_dw, g);
  return {dx, dw, db};
}

// Whether the phase decomposition applies: dilation 1, an output, and a phase layout whose input-gradient
// convolutions need no negative padding.
bool StridedApplies(int64_t T, int64_t K, int64_t stride, int64_t pad) {
  if (T + 2 * pad - K < 0) return false;
  const Phases p = PlanPhases(T, K, stride, pad);
  for (int64_t r = 0; r < stride; ++r) {
    if (p.shift[r] + p.taps - 1 < 0) return false;
  }
  return true;
}

struct Conv1dFunction : public torch::autograd::Function<Conv1dFunction> {
  // residual (the output's shape) is added to the output; its gradient is the output's.
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& input, const torch::Tensor& weight, const torch::Tensor& bias,
                               int64_t stride, int64_t pad, int64_t dil, int64_t up, const c10::optional<torch::Tensor>& residual) {
    RECORD_FUNCTION("torchmotion::conv1d", std::vector<c10::IValue>());  // named in LibTorch's profiler traces
    torch::Tensor x = input.contiguous(), w = weight.contiguous(), b = bias.contiguous();
    const torch::Tensor r = residual.has_value() ? residual->contiguous() : torch::Tensor();
    torch::Tensor y = stride == 1 ? ConvForward(x, w, b, pad, dil, up, r) : StridedForward(x, w, b, stride, pad);
    if (stride != 1 && r.defined()) {
      CheckResidual(r, y);
      y.add_(r);
    }
    ctx->saved_data["residual"] = r.defined();
    ctx->save_for_backward({x, w});
    ctx->saved_data["stride"] = stride;
    ctx->saved_data["pad"] = pad;
    ctx->saved_data["dil"] = dil;
    ctx->saved_data["up"] = up;
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_out) {
    RECORD_FUNCTION("torchmotion::conv1d_backward", std::vector<c10::IValue>());
    variable_list saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &w = saved[1];
    const int64_t stride = ctx->saved_data["stride"].toInt(), pad = ctx->saved_data["pad"].toInt(), dil = ctx->saved_data["dil"].toInt();
    const int64_t up = ctx->saved_data["up"].toInt();
    torch::Tensor g = grad_out[0].contiguous();
    const bool need_dx = ctx->needs_input_grad(0), need_dw = ctx->needs_input_grad(1), need_db = ctx->needs_input_grad(2);
    auto [dx, dw, db] = stride == 1 ? ConvBackward(x, w, g, pad, dil, up, need_dx, need_dw, need_db)
                                    : StridedBackward(x, w, g, stride, pad, need_dx, need_dw, need_db);
    return {dx, dw, db, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(), ctx->saved_data["residual"].toBool() ? g : torch::Tensor()};
  }
};

bool HasAvx512() {
  static const bool yes = __builtin_cpu_supports("avx512f") && std::getenv("TORCHMOTION_NO_AVX512") == nullptr;
  return yes;
}

}  // namespace
#endif

namespace {

// x upsampled by nearest neighbour, as torch::nn::Upsample does, for LibTorch's convolution.
torch::Tensor Upsampled(const torch::Tensor& x, int64_t up) {
  if (up == 1) return x;
  namespace F = torch::nn::functional;
  return F::interpolate(x, F::InterpolateFuncOptions().scale_factor(std::vector<double>{static_cast<double>(up)}).mode(torch::kNearest));
}

}  // namespace

bool Conv1dCpuApplies(const torch::Tensor& x, const torch::Tensor& w, int64_t stride, int64_t padding, int64_t dilation, int64_t groups,
                      int64_t upsample) {
#ifdef TM_CONV_AVX512
  if (!HasAvx512() || !x.is_cpu() || !w.is_cpu() || x.scalar_type() != torch::kFloat32 || w.scalar_type() != torch::kFloat32) return false;
  if (x.dim() != 3 || w.dim() != 3 || x.size(1) != w.size(1) || groups != 1 || dilation < 1 || stride < 1 || padding < 0) return false;
  if (x.size(0) == 0 || x.size(1) == 0 || w.size(0) == 0 || upsample < 1 || (upsample > 1 && stride > 1)) return false;
  if (stride > 1) return dilation == 1 && StridedApplies(x.size(2), w.size(2), stride, padding);
  const int64_t reach = dilation * (w.size(2) - 1);
  return padding <= reach && upsample * x.size(2) + 2 * padding - reach >= 1;
#else
  (void)x, (void)w, (void)stride, (void)padding, (void)dilation, (void)groups, (void)upsample;
  return false;
#endif
}

// LibTorch's convolution, plus the residual if there is one (the fallback of both functions below).
torch::Tensor LibTorchConv(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b, int64_t stride, int64_t padding,
                           int64_t dilation, int64_t upsample, const torch::Tensor& residual) {
  torch::Tensor y = torch::conv1d(Upsampled(x, upsample), w, b, stride, padding, dilation);
  CheckResidual(residual, y);
  return residual.defined() ? y + residual : y;
}

torch::Tensor Conv1dCpu(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b, int64_t stride, int64_t padding,
                        int64_t dilation, int64_t upsample, const torch::Tensor& residual) {
#ifdef TM_CONV_AVX512
  // autograd::Function cannot take an undefined tensor (LibTorch asks it for its device): no bias is a zero bias
  // that needs no gradient, no residual an empty optional.
  return Conv1dFunction::apply(x, w, b.defined() ? b : torch::zeros({w.size(0)}, w.options()), stride, padding, dilation, upsample,
                               residual.defined() ? c10::optional<torch::Tensor>(residual) : c10::nullopt);
#else
  return LibTorchConv(x, w, b, stride, padding, dilation, upsample, residual);
#endif
}

torch::Tensor Conv1dLayer(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b, int64_t stride, int64_t padding,
                          int64_t dilation, int64_t upsample, const torch::Tensor& residual) {
  const bool fits = !residual.defined() || (residual.is_cpu() && residual.scalar_type() == torch::kFloat32);
  if (fits && Conv1dCpuApplies(x, w, stride, padding, dilation, 1, upsample)) {
    return Conv1dCpu(x, w, b, stride, padding, dilation, upsample, residual);
  }
  return LibTorchConv(x, w, b, stride, padding, dilation, upsample, residual);
}

}  // namespace torchmotion

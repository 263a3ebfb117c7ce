// Autoregressive generation for the text-to-motion decoder: greedy or sampled (temperature, top-k, top-p),
// classifier-free guidance, with a KV cache (one position per step) or without (the whole sequence every step).
#pragma once

#include "models/t2m/transformer.h"

namespace torchmotion {

struct SamplingOptions {
  double temperature = 0;  // 0: greedy
  int64_t top_k = 0;       // 0: off
  double top_p = 1;        // 1: off
  int64_t min_tokens = 0;  // END is not allowed before this many codes
};

struct GenerationResult {
  torch::Tensor tokens;   // (B, max_tokens) int64, PAD after END
  torch::Tensor lengths;  // (B,) number of codes before END
};

GenerationResult GenerateTokens(T2MImpl& model, const torch::Tensor& text, const torch::Tensor& lengths,
                                int64_t max_tokens, const SamplingOptions& s, double cfg_scale, uint64_t seed,
                                bool use_cache);

}  // namespace torchmotion

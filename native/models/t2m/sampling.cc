#include "models/t2m/sampling.h"

#include <ATen/CPUGeneratorImpl.h>

namespace torchmotion {
namespace {

// logits (B, V) float32 → next token (B,) int64.
torch::Tensor Sample(torch::Tensor logits, const SamplingOptions& s, at::Generator& gen) {
  if (s.temperature <= 0) return logits.argmax(-1);
  logits = logits / s.temperature;
  if (s.top_k > 0 && s.top_k < logits.size(-1)) {
    torch::Tensor kth = std::get<0>(logits.topk(s.top_k, -1)).narrow(-1, s.top_k - 1, 1);
    logits = logits.masked_fill(logits < kth, -std::numeric_limits<float>::infinity());
  }
  if (s.top_p < 1) {
    auto [sorted, order] = logits.sort(-1, true);
    torch::Tensor cumulative = torch::softmax(sorted, -1).cumsum(-1);
    torch::Tensor drop =
        (cumulative - torch::softmax(sorted, -1)) > s.top_p;  // keep the smallest prefix reaching top_p
    sorted = sorted.masked_fill(drop, -std::numeric_limits<float>::infinity());
    logits = torch::full_like(logits, -std::numeric_limits<float>::infinity()).scatter(-1, order, sorted);
  }
  torch::Tensor probs = torch::softmax(logits, -1).cpu();
  return at::multinomial(probs, 1, false, gen).squeeze(-1).to(logits.device());
}

}  // namespace

GenerationResult GenerateTokens(T2MImpl& model, const torch::Tensor& text, const torch::Tensor& lengths,
                                int64_t max_tokens, const SamplingOptions& s, double cfg_scale, uint64_t seed,
                                bool use_cache) {
  torch::NoGradGuard no_grad;
  const DecoderConfig& c = model.config();
  const int64_t end = c.vocab - 2, pad = c.vocab - 1;
  const int64_t rows = text.size(0), B = cfg_scale > 0 ? rows / 2 : rows, Lt = text.size(1);
  max_tokens = std::min(max_tokens, c.max_len - Lt);
  auto dev = text.device();
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto guide = [&](torch::Tensor logits) {  // (rows, V) → (B, V)
    logits = logits.to(torch::kFloat32);
    if (cfg_scale <= 0) return logits;
    torch::Tensor cond = logits.narrow(0, 0, B), uncond = logits.narrow(0, B, B);
    return uncond + cfg_scale * (cond - uncond);
  };
  torch::Tensor out = torch::full({B, max_tokens}, pad, torch::TensorOptions().dtype(torch::kInt64).device(dev));
  torch::Tensor done = torch::zeros({B}, torch::TensorOptions().dtype(torch::kBool).device(dev));
  torch::Tensor lens = torch::full({B}, max_tokens, torch::TensorOptions().dtype(torch::kInt64).device(dev));
  KvCache cache;
  torch::Tensor h;
  if (use_cache) {
    cache = model.new_cache(rows, Lt + max_tokens,
                            torch::TensorOptions().dtype(model.parameters()[0].scalar_type()).device(dev));
    h = model.hidden(text, lengths, torch::empty({rows, 0}, torch::TensorOptions().dtype(torch::kInt64).device(dev)),
                     &cache);
  } else {
    h = model.hidden(text, lengths, torch::empty({rows, 0}, torch::TensorOptions().dtype(torch::kInt64).device(dev)));
  }
  for (int64_t t = 0; t < max_tokens; ++t) {
    torch::Tensor logits = guide(model.head(h.select(1, h.size(1) - 1)));
    if (t < s.min_tokens) logits.select(1, end).fill_(-std::numeric_limits<float>::infinity());
    torch::Tensor next = Sample(logits, s, gen);
    next = torch::where(done, torch::full_like(next, pad), next);
    out.select(1, t).copy_(next);
    torch::Tensor ended = next.eq(end) & done.logical_not();
    lens = torch::where(ended, torch::full_like(lens, t), lens);
    done = done | ended;
    if (done.all().item<bool>() || t + 1 == max_tokens) break;
    // Finished rows keep feeding PAD (their outputs are ignored); guidance rows repeat the same token.
    torch::Tensor feed = cfg_scale > 0 ? torch::cat({next, next}) : next;
    if (use_cache) {
      h = model.step(feed.unsqueeze(1), lengths, Lt, cache);
    } else {
      torch::Tensor so_far = out.narrow(1, 0, t + 1);
      if (cfg_scale > 0) so_far = torch::cat({so_far, so_far});
      h = model.hidden(text, lengths, so_far);
    }
  }
  return {out, lens};
}

}  // namespace torchmotion

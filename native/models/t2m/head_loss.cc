#include "models/t2m/head_loss.h"

#include <algorithm>

#include "compat.h"

namespace torchmotion {

namespace {
// About 128 MB of float logits per chunk, whatever the vocabulary.
constexpr int64_t kLogitsPerChunk = int64_t{1} << 25;

// With `backward`, each chunk's loss is back-propagated into the head's weights and the rows' gradient passed on.
HeadLoss ChunkedLoss(const std::function<torch::Tensor(const torch::Tensor&)>& head, const torch::Tensor& rows,
                     const torch::Tensor& targets, int64_t vocab, double scale, bool autocast, bool backward,
                     const std::function<void()>& before_trunk) {
  HeadLoss out;
  const int64_t n = rows.size(0);
  if (n == 0) return out;
  torch::Tensor detached = backward ? rows.detach().requires_grad_(true) : rows;
  const int64_t rows_per_chunk = std::max<int64_t>(1, kLogitsPerChunk / std::max<int64_t>(1, vocab));
  // Sums stay on the device until the end: one host sync per step, not two per chunk.
  torch::Tensor sum = torch::zeros({}, rows.options().dtype(torch::kFloat64));
  torch::Tensor correct = torch::zeros({}, rows.options().dtype(torch::kInt64));
  for (int64_t start = 0; start < n; start += rows_per_chunk) {
    const int64_t chunk = std::min(rows_per_chunk, n - start);
    torch::Tensor logits;
    {
      AutocastGuard amp(autocast, at::kBFloat16);
      logits = head(detached.narrow(0, start, chunk));
    }
    logits = logits.to(torch::kFloat32);
    torch::Tensor t = targets.narrow(0, start, chunk);
    torch::Tensor loss = torch::nn::functional::cross_entropy(
        logits, t, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
    if (backward) (loss * (scale / static_cast<double>(n))).backward();
    sum += loss.detach();
    correct += logits.argmax(-1).eq(t).sum();
  }
  if (backward) {
    if (before_trunk) before_trunk();
    rows.backward(detached.grad());
  }
  torch::Tensor both = torch::stack({sum, correct.to(torch::kFloat64)}).cpu();  // the one copy to the host
  out.loss = both[0].item<double>() / static_cast<double>(n);
  out.correct = static_cast<int64_t>(both[1].item<double>());
  return out;
}

}  // namespace

HeadLoss ChunkedHeadLossBackward(const std::function<torch::Tensor(const torch::Tensor&)>& head,
                                 const torch::Tensor& rows, const torch::Tensor& targets, int64_t vocab, double scale,
                                 bool autocast, const std::function<void()>& before_trunk) {
  return ChunkedLoss(head, rows, targets, vocab, scale, autocast, true, before_trunk);
}

HeadLoss ChunkedHeadLoss(const std::function<torch::Tensor(const torch::Tensor&)>& head, const torch::Tensor& rows,
                         const torch::Tensor& targets, int64_t vocab, bool autocast) {
  return ChunkedLoss(head, rows, targets, vocab, 1.0, autocast, false, nullptr);
}

}  // namespace torchmotion

#include "t2m_step.h"

#include <algorithm>

#include "compat.h"
#include "head_loss.h"

namespace torchmotion {

// The head and cross-entropy run only where a target exists (codes and END), never on padding or the text prefix,
// and a chunk of positions at a time, so the 64,001-way logits never exist for the whole batch.
T2MStepResult T2MTrainStep(T2MDecoder& model, FlatAdamW& optimizer, const torch::Tensor& text, const torch::Tensor& lengths,
                           const torch::Tensor& codes, const torch::Device& device, const T2MStepArgs& a) {
  model->train();
  model->set_recompute(a.recompute);
  optimizer.PrepareGrads();
  const int64_t pad = model->config().vocab - 1;
  torch::Tensor c = codes.to(device);
  torch::Tensor h, rows, targets;
  {
    AutocastGuard amp(a.autocast, at::kBFloat16);
    const int64_t Lt = text.size(1), Lc = c.size(1);
    h = model->hidden(text.to(device), lengths, c.narrow(1, 0, Lc - 1));
    torch::Tensor valid = c.ne(pad);
    rows = h.narrow(1, Lt - 1, Lc).masked_select(valid.unsqueeze(-1)).view({-1, h.size(-1)});
    targets = c.masked_select(valid);
  }
  HeadLoss hl = ChunkedHeadLossBackward([&model](const torch::Tensor& r) { return model->head(r); }, rows, targets, pad, a.loss_scale,
                                        a.autocast);
  double grad_norm = 0;
  if (a.update) {
    optimizer.GradientsReady();
    if (a.clip > 0) grad_norm = optimizer.ClipGradNorm(a.clip);
    optimizer.SetLr(a.lr);
    optimizer.step();
    optimizer.ZeroGrad();
  }
  const double n = static_cast<double>(targets.numel());
  return {hl.loss, static_cast<double>(hl.correct) / std::max(1.0, n), n, grad_norm};
}

}  // namespace torchmotion

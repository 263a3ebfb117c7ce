#include "models/evaluator/step.h"

#include <cmath>
#include <limits>

namespace torchmotion {

EvaluatorStepResult EvaluatorTrainStep(Evaluator& model, FlatAdamW& optimizer, const EvaluatorBatch& b,
                                       const torch::Device& device, const EvaluatorStepArgs& a) {
  model->train();
  optimizer.PrepareGrads();
  torch::manual_seed(a.seed);
  EvaluatorStepResult r{std::numeric_limits<double>::quiet_NaN(), 0, 0, ""};
  const bool finite_text = !b.text.is_floating_point() || torch::isfinite(b.text).all().item<bool>();
  if (!finite_text || !torch::isfinite(b.motion).all().item<bool>()) {
    r.non_finite = "input";
  } else {
    auto text = model->embed_text(b.text.to(device), b.text_lengths.to(device));
    auto motion = model->embed_motion(b.motion.to(device), b.motion_lengths.to(device));
    auto loss = InfoNce(text, motion, b.exclude, a.temperature);
    r.loss = loss.item<double>();
    {
      torch::NoGradGuard no_grad;
      auto sim = text.matmul(motion.t());
      auto own = torch::arange(sim.size(0), torch::TensorOptions().dtype(torch::kLong).device(sim.device()));
      r.accuracy = 0.5 * (sim.argmax(1).eq(own).to(torch::kFloat64).mean().item<double>() +
                          sim.argmax(0).eq(own).to(torch::kFloat64).mean().item<double>());
    }
    if (std::isfinite(r.loss)) {
      optimizer.ArmSync();
      loss.backward();
    } else
      r.non_finite = "loss";
  }
  const FlatAdamW::Outcome end = optimizer.EndStep(r.non_finite, true, a.clip, a.lr);
  r.grad_norm = end.grad_norm;
  r.non_finite = end.non_finite;
  return r;
}

}  // namespace torchmotion

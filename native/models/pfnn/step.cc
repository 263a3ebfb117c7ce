#include "models/pfnn/step.h"

#include <cmath>
#include <limits>

namespace torchmotion {

PfnnStepResult PfnnTrainStep(Pfnn& model, FlatAdamW& optimizer, const PfnnBatch& b, const torch::Device& device,
                             const PfnnStepArgs& a) {
  model->train();
  optimizer.PrepareGrads();
  torch::manual_seed(a.seed);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  PfnnStepResult r{nan, nan, nan, nan, ""};
  torch::Tensor x = b.x.to(device), phase = b.phase.to(device), y = b.y.to(device);
  if (!(torch::isfinite(x).all().item<bool>() && torch::isfinite(y).all().item<bool>() &&
        torch::isfinite(phase).all().item<bool>())) {
    r.non_finite = "input";
  } else {
    torch::Tensor mse = torch::mse_loss(model->forward(x, phase), y);
    torch::Tensor penalty = model->weight_penalty();
    torch::Tensor loss = mse + a.gamma * penalty;
    r.loss = loss.item<double>();
    r.mse = mse.item<double>();
    r.penalty = penalty.item<double>();
    if (std::isfinite(r.loss)) {
      optimizer.ArmSync();
      loss.backward();
    } else {
      r.non_finite = "loss";
    }
  }
  const FlatAdamW::Outcome end = optimizer.EndStep(r.non_finite, true, 0, a.lr);
  r.grad_norm = end.grad_norm;
  r.non_finite = end.non_finite;
  return r;
}

double PfnnEvaluate(Pfnn& model, const PfnnBatch& b, const torch::Device& device) {
  torch::NoGradGuard no_grad;
  model->eval();
  return torch::mse_loss(model->forward(b.x.to(device), b.phase.to(device)), b.y.to(device)).item<double>();
}

}  // namespace torchmotion

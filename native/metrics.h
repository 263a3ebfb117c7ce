// Evaluation metrics that need linear algebra (the Fréchet distance's matrix square root), run by LibTorch in float64.
#pragma once

#include <napi.h>

namespace torchmotion {

void RegisterMetrics(Napi::Env env, Napi::Object exports);

}  // namespace torchmotion

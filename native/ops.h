#pragma once

#include <napi.h>

namespace torchmotion {

// Registers the stateless operations: the tensor round trip, matmul and the throughput probe.
void RegisterOps(Napi::Env env, Napi::Object exports);

}  // namespace torchmotion

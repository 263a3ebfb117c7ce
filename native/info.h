#pragma once

#include <napi.h>

namespace torchmotion {

// Registers info() and setThreads(): what LibTorch this addon runs on and how it is configured.
void RegisterInfo(Napi::Env env, Napi::Object exports);

}  // namespace torchmotion

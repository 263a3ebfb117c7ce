// Every failure inside native code becomes a JS Error: no C++ exception may escape into Node, and the message
// is LibTorch's sentence without its multi-line C++ backtrace.
#pragma once

#include <napi.h>

#include <exception>
#include <string>

#include "compat.h"

namespace torchmotion {

// The user-facing text of whatever is being handled; call only inside a catch block.
inline std::string CurrentErrorMessage() {
  try {
    throw;
  } catch (const c10::Error& e) {
    std::string msg = WithoutBacktrace(e);
    // 1.13 sometimes leaves "Exception raised from ..." lines inside the message; keep the first sentence block.
    auto cut = msg.find("\nException raised from");
    return cut == std::string::npos ? msg : msg.substr(0, cut);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown native error";
  }
}

}  // namespace torchmotion

namespace torchmotion {

// Runs a synchronous N-API entry point: Napi::Error passes through, anything else becomes a JS Error.
template <class F>
auto Guarded(Napi::Env env, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    throw Napi::Error::New(env, CurrentErrorMessage());
  }
}

}  // namespace torchmotion

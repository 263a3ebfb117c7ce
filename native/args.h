// Small readers for JS option objects. TypeScript validates user input first; these checks keep a direct
// call into the addon (or a TS bug) from ever reaching LibTorch with nonsense.
#pragma once

#include <napi.h>

#include <string>

#include "threads.h"

namespace torchmotion {

inline Napi::Object OptionsArg(const Napi::CallbackInfo& info, size_t index, const char* what) {
  if (info.Length() <= index || info[index].IsUndefined()) return Napi::Object::New(info.Env());
  if (!info[index].IsObject() || info[index].IsArray()) {
    throw Napi::TypeError::New(info.Env(), std::string(what) + ": expected an options object");
  }
  return info[index].As<Napi::Object>();
}

inline double NumberOption(const Napi::Object& o, const char* key, double fallback, double min, double max) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  double x = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : min - 1;
  if (!(x >= min && x <= max)) {
    throw Napi::RangeError::New(o.Env(), std::string("option '") + key + "' must be a number in [" +
                                             std::to_string(min) + ", " + std::to_string(max) + "], received " +
                                             v.ToString().Utf8Value());
  }
  return x;
}

inline int IntOption(const Napi::Object& o, const char* key, int fallback, int min, int max) {
  double x = NumberOption(o, key, fallback, min, max);
  if (x != static_cast<int>(x)) {
    throw Napi::RangeError::New(o.Env(), std::string("option '") + key + "' must be an integer, received " +
                                             std::to_string(x));
  }
  return static_cast<int>(x);
}

inline std::string StringOption(const Napi::Object& o, const char* key, const std::string& fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsString()) throw Napi::TypeError::New(o.Env(), std::string("option '") + key + "' must be a string");
  return v.As<Napi::String>().Utf8Value();
}

inline bool BoolOption(const Napi::Object& o, const char* key, bool fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsBoolean()) throw Napi::TypeError::New(o.Env(), std::string("option '") + key + "' must be true or false");
  return v.As<Napi::Boolean>().Value();
}

// {threads} → the ThreadState a call runs under; grad is chosen by the call, not the user.
inline ThreadState ThreadOption(const Napi::Object& o, bool grad) {
  return ThreadState{IntOption(o, "threads", DefaultThreads(), 1, 1024), grad};
}

}  // namespace torchmotion

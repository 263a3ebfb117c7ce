// Small readers for JS option objects. TypeScript validates user input first; these checks keep a direct
// call into the addon (or a TS bug) from ever reaching LibTorch with nonsense. Hyper-parameters have their defaults
// in TypeScript's config schemas only: models and training steps read them with Required*, so a missing one is an
// error naming it, never a second default that could drift from the first. The fallback readers are for how a call
// runs (device, threads, profiling), not for what it computes.
#pragma once

#include <napi.h>

#include <string>
#include <vector>

#include "compat.h"
#include "runtime/threads.h"

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
    throw Napi::RangeError::New(o.Env(),
                                std::string("option '") + key + "' must be an integer, received " + std::to_string(x));
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

// The value of a hyper-parameter the caller must give; `what` names the call for the error.
inline Napi::Value RequiredValue(const Napi::Object& o, const char* what, const char* key) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) {
    throw Napi::TypeError::New(
        o.Env(), std::string(what) + ": option '" + key +
                     "' is missing (its default lives in the TypeScript config schema, which passes every option)");
  }
  return v;
}

inline double RequiredNumber(const Napi::Object& o, const char* what, const char* key, double min, double max) {
  RequiredValue(o, what, key);
  return NumberOption(o, key, 0, min, max);
}

inline int RequiredInt(const Napi::Object& o, const char* what, const char* key, int min, int max) {
  RequiredValue(o, what, key);
  return IntOption(o, key, 0, min, max);
}

// A width, length or count of a tensor's dimension: an integer in [1, 65536].
inline int RequiredSize(const Napi::Object& o, const char* what, const char* key) {
  return RequiredInt(o, what, key, 1, 1 << 16);
}

inline std::string RequiredString(const Napi::Object& o, const char* what, const char* key) {
  RequiredValue(o, what, key);
  return StringOption(o, key, "");
}

inline bool RequiredBool(const Napi::Object& o, const char* what, const char* key) {
  RequiredValue(o, what, key);
  return BoolOption(o, key, false);
}

// An array of positive integers (FSQ levels).
inline std::vector<int64_t> RequiredIntList(const Napi::Object& o, const char* what, const char* key) {
  Napi::Value v = RequiredValue(o, what, key);
  if (!v.IsArray())
    throw Napi::TypeError::New(o.Env(), std::string("option '") + key + "' must be an array of integers");
  std::vector<int64_t> out;
  auto a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value x = a.Get(i);
    double d = x.IsNumber() ? x.As<Napi::Number>().DoubleValue() : -1;
    if (!(d >= 1) || d != static_cast<int64_t>(d)) {
      throw Napi::TypeError::New(o.Env(), std::string("option '") + key + "' must hold positive integers");
    }
    out.push_back(static_cast<int64_t>(d));
  }
  return out;
}

// AdamW's hyper-parameters {lr, beta1, beta2, weightDecay, eps}, every one required.
inline torch::optim::AdamWOptions RequiredAdamW(const Napi::Object& o, const char* what) {
  return torch::optim::AdamWOptions(RequiredNumber(o, what, "lr", 0, 10))
      .betas(std::make_tuple(RequiredNumber(o, what, "beta1", 0, 1), RequiredNumber(o, what, "beta2", 0, 1)))
      .weight_decay(RequiredNumber(o, what, "weightDecay", 0, 10))
      .eps(RequiredNumber(o, what, "eps", 0, 1));
}

// {threads} → the ThreadState a call runs under; grad is chosen by the call, not the user.
inline ThreadState ThreadOption(const Napi::Object& o, bool grad) {
  return ThreadState{IntOption(o, "threads", DefaultThreads(), 1, 1024), grad};
}

}  // namespace torchmotion

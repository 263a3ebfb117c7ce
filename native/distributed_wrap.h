// JS class `ProcessGroup`: a c10d process group (distributed.h) for the trainers — rendezvous, the small
// collectives the TypeScript side needs (config hashes, loss means, barriers), and the group models join.
#pragma once

#include <napi.h>

#include <memory>

#include "distributed.h"

namespace torchmotion {

class ProcessGroupWrap : public Napi::ObjectWrap<ProcessGroupWrap> {
 public:
  static void Register(Napi::Env env, Napi::Object exports);
  explicit ProcessGroupWrap(const Napi::CallbackInfo& info);
  // The group behind a JS ProcessGroup argument (a TypeError naming `what` otherwise).
  static std::shared_ptr<ProcessGroup> From(const Napi::Value& v, const std::string& what);

 private:
  static Napi::FunctionReference* constructor_;
  Napi::Value AllGather(const Napi::CallbackInfo& info);
  Napi::Value AllReduceMean(const Napi::CallbackInfo& info);
  Napi::Value Barrier(const Napi::CallbackInfo& info);
  Napi::Value Rank(const Napi::CallbackInfo& info);
  Napi::Value WorldSize(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);

  std::shared_ptr<ProcessGroup> group_;
};

}  // namespace torchmotion

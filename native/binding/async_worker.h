// Runs LibTorch work on libuv's thread pool and settles a Promise on the JS thread. The work function returns
// a converter that builds the JS result later on the JS thread, so tensors never touch V8 off-thread.
#pragma once

#include <napi.h>

#include <functional>
#include <utility>
#include <vector>

#include "binding/errors.h"
#include "runtime/threads.h"

namespace torchmotion {

using ToJs = std::function<Napi::Value(Napi::Env)>;
using Work = std::function<ToJs()>;

class TorchWorker : public Napi::AsyncWorker {
 public:
  // keep: JS values (typed arrays) whose memory the work reads; released on the JS thread after the work ends.
  // done: runs on the JS thread once the promise settles (e.g. to clear a model's busy flag).
  static Napi::Promise Start(Napi::Env env, ThreadState state, Work work,
                             std::vector<Napi::Reference<Napi::Value>> keep = {},
                             std::function<void()> done = nullptr) {
    auto* worker = new TorchWorker(env, state, std::move(work), std::move(keep), std::move(done));
    Napi::Promise promise = worker->deferred_.Promise();
    worker->Queue();
    return promise;
  }

 protected:
  void Execute() override {
    try {
      ThreadStateGuard guard(state_);
      to_js_ = work_();
    } catch (...) {
      SetError(CurrentErrorMessage());
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    Finish();
    try {
      deferred_.Resolve(to_js_ ? to_js_(env) : env.Undefined());
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    } catch (...) {
      deferred_.Reject(Napi::Error::New(env, CurrentErrorMessage()).Value());
    }
  }

  void OnError(const Napi::Error& error) override {
    Finish();
    deferred_.Reject(error.Value());
  }

 private:
  TorchWorker(Napi::Env env, ThreadState state, Work work, std::vector<Napi::Reference<Napi::Value>> keep,
              std::function<void()> done)
      : Napi::AsyncWorker(env, "torchmotion"),
        deferred_(Napi::Promise::Deferred::New(env)),
        state_(state),
        work_(std::move(work)),
        keep_(std::move(keep)),
        done_(std::move(done)) {}

  void Finish() {
    work_ = nullptr;  // drops tensors that view JS memory before the references below are released
    keep_.clear();
    if (done_) done_();
  }

  Napi::Promise::Deferred deferred_;
  ThreadState state_;
  Work work_;
  ToJs to_js_;
  std::vector<Napi::Reference<Napi::Value>> keep_;
  std::function<void()> done_;
};

}  // namespace torchmotion

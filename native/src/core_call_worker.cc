// AsyncWorker around a void core call: inputs travel in the call's captures, failures as plain data.
#include "core_call_worker.h"

#include <napi.h>

#include <functional>
#include <optional>
#include <utility>

#include "errors.h"

namespace baton {
namespace {

class CoreCallWorker : public Napi::AsyncWorker {
 public:
  CoreCallWorker(Napi::Env env, const char* resource_name, std::function<void()> call)
      : Napi::AsyncWorker(env, resource_name), deferred_(Napi::Promise::Deferred::New(env)),
        call_(std::move(call)) {}

  Napi::Promise GetPromise() const { return deferred_.Promise(); }

 protected:
  // Worker thread: touches only call_ and failure_.
  void Execute() override {
    failure_ = CaptureFailure(call_);
    // SetError only routes completion to OnError; the rejection value is built from failure_.
    if (failure_.has_value()) SetError(failure_->message);
  }

  // Main thread.
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }

  // Main thread. Execute always sets failure_ before SetError.
  void OnError(const Napi::Error& /*error*/) override {
    deferred_.Reject(MakeNativeError(Env(), *failure_).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::function<void()> call_;
  std::optional<NativeFailure> failure_;
};

}  // namespace

Napi::Promise QueueCoreCall(Napi::Env env, const char* resource_name, std::function<void()> call) {
  auto* worker = new CoreCallWorker(env, resource_name, std::move(call));  // deletes itself when done
  Napi::Promise promise = worker->GetPromise();
  worker->Queue();
  return promise;
}

}  // namespace baton

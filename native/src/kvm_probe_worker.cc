// AsyncWorker for probeKvm: request copied in on the main thread, probe off it, result converted back.
#include "kvm_probe_worker.h"

#include <napi.h>

#include <optional>
#include <utility>

#include "errors.h"
#include "kvm_probe.h"

namespace baton {
namespace {

Napi::Object ConvertProbe(Napi::Env env, const KvmProbe& probe) {
  Napi::Object capabilities = Napi::Object::New(env);
  for (const KvmCapability& capability : probe.capabilities) {
    capabilities.Set(capability.name, capability.value);
  }

  Napi::Object modules = Napi::Object::New(env);
  modules.Set("kvmIntel", probe.modules.is_kvm_intel_loaded);
  modules.Set("kvmAmd", probe.modules.is_kvm_amd_loaded);
  modules.Set("kvmPvm", probe.modules.is_kvm_pvm_loaded);

  Napi::Object result = Napi::Object::New(env);
  result.Set("devicePath", probe.device_path);
  result.Set("present", probe.access != KvmDeviceAccess::kMissing);
  result.Set("openable",
             probe.access == KvmDeviceAccess::kOpened || probe.access == KvmDeviceAccess::kNotKvm);
  const Napi::Value api_version =
      probe.api_version.has_value() ? Napi::Number::New(env, *probe.api_version) : env.Null();
  result.Set("apiVersion", api_version);
  result.Set("capabilities", capabilities);
  result.Set("modules", modules);
  result.Set("usable", probe.is_usable);
  result.Set("reason", probe.reason);
  return result;
}

class ProbeKvmWorker : public Napi::AsyncWorker {
 public:
  ProbeKvmWorker(Napi::Env env, KvmProbeRequest request)
      : Napi::AsyncWorker(env, "baton:probeKvm"), deferred_(Napi::Promise::Deferred::New(env)),
        request_(std::move(request)) {}

  Napi::Promise GetPromise() const { return deferred_.Promise(); }

 protected:
  // Worker thread: touches only request_, probe_ and failure_.
  void Execute() override {
    failure_ = CaptureFailure([this] { probe_ = ProbeKvm(request_); });
    // SetError only routes completion to OnError; the rejection value is built from failure_.
    if (failure_.has_value()) SetError(failure_->message);
  }

  // Main thread.
  void OnOK() override { deferred_.Resolve(ConvertProbe(Env(), probe_)); }

  // Main thread. Execute always sets failure_ before SetError.
  void OnError(const Napi::Error& /*error*/) override {
    deferred_.Reject(MakeNativeError(Env(), *failure_).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  KvmProbeRequest request_;
  KvmProbe probe_;
  std::optional<NativeFailure> failure_;
};

}  // namespace

Napi::Value StartProbeKvm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  KvmProbeRequest request;
  const Napi::Value device_path = info[0];
  if (device_path.IsString()) {
    request.device_path = device_path.As<Napi::String>().Utf8Value();
  } else if (!device_path.IsUndefined()) {
    Napi::TypeError error = Napi::TypeError::New(env, "probeKvm: devicePath must be a string or undefined");
    error.Set("code", "ERR_INVALID_ARG_TYPE");
    throw error;
  }
  auto* worker = new ProbeKvmWorker(env, std::move(request));  // deletes itself after OnOK/OnError
  Napi::Promise promise = worker->GetPromise();
  worker->Queue();
  return promise;
}

}  // namespace baton

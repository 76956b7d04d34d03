// Registers the baton_native exports; each lives in its own file.
#include <napi.h>

#include "kvm_probe_worker.h"

namespace {

Napi::Object RegisterExports(Napi::Env env, Napi::Object exports) {
  exports.Set("probeKvm", Napi::Function::New(env, baton::StartProbeKvm, "probeKvm"));
  return exports;
}

}  // namespace

NODE_API_MODULE(baton_native, RegisterExports)

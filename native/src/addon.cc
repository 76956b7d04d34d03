// Registers the baton_native exports; each lives in its own file.
#include <napi.h>

#include "addon_data.h"
#include "kvm_probe_worker.h"
#include "memfd_area_exports.h"
#include "peer_credentials_export.h"
#include "process_watch.h"

namespace {

Napi::Object RegisterExports(Napi::Env env, Napi::Object exports) {
  auto* data = new baton::AddonData();  // owned by the environment: deleted when it is torn down
  data->process_watch_class = Napi::Persistent(baton::DefineProcessWatchClass(env));
  env.SetInstanceData(data);

  exports.Set("probeKvm", Napi::Function::New(env, baton::StartProbeKvm, "probeKvm"));
  exports.Set("watchProcess", Napi::Function::New(env, baton::StartWatchProcess, "watchProcess"));
  exports.Set("peerCredentials", Napi::Function::New(env, baton::GetPeerCredentials, "peerCredentials"));
  exports.Set("memfdCreate", Napi::Function::New(env, baton::MemfdCreate, "memfdCreate"));
  exports.Set("memfdWrite", Napi::Function::New(env, baton::MemfdWrite, "memfdWrite"));
  exports.Set("memfdRead", Napi::Function::New(env, baton::MemfdRead, "memfdRead"));
  exports.Set("punchHole", Napi::Function::New(env, baton::StartPunchHole, "punchHole"));
  exports.Set("scrubArea", Napi::Function::New(env, baton::StartScrubArea, "scrubArea"));
  return exports;
}

}  // namespace

NODE_API_MODULE(baton_native, RegisterExports)

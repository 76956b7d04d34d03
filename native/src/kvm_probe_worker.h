// The `probeKvm` export: runs the Node-free KVM probe on a worker thread and settles a promise.
#ifndef BATON_NATIVE_KVM_PROBE_WORKER_H_
#define BATON_NATIVE_KVM_PROBE_WORKER_H_

#include <napi.h>

namespace baton {

// probeKvm(devicePath?: string): Promise<KvmProbe>. Main thread; throws TypeError on a bad argument.
Napi::Value StartProbeKvm(const Napi::CallbackInfo& info);

}  // namespace baton

#endif  // BATON_NATIVE_KVM_PROBE_WORKER_H_

// Runs a Node-free core call off the main thread and settles a promise with undefined or a NativeError.
#ifndef BATON_NATIVE_CORE_CALL_WORKER_H_
#define BATON_NATIVE_CORE_CALL_WORKER_H_

#include <napi.h>

#include <functional>

namespace baton {

// Main thread. `call` runs on a worker thread: it must capture only plain values copied off the JS
// heap, never Napi objects. Its SyscallError or CodedError rejects the promise as a NativeError.
Napi::Promise QueueCoreCall(Napi::Env env, const char* resource_name, std::function<void()> call);

}  // namespace baton

#endif  // BATON_NATIVE_CORE_CALL_WORKER_H_

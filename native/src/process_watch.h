// The `watchProcess` export: a pidfd polled by libuv on the main loop; calls onExit once on exit.
#ifndef BATON_NATIVE_PROCESS_WATCH_H_
#define BATON_NATIVE_PROCESS_WATCH_H_

#include <napi.h>

namespace baton {

// The JS class of watchProcess's handles. Not exported: only watchProcess creates them.
Napi::Function DefineProcessWatchClass(Napi::Env env);

// watchProcess(pid: number, onExit: () => void): ProcessWatch (an object with close()).
// Main thread. Throws a NativeError-shaped Error (ESRCH, ENOSYS, ...) when pidfd_open fails.
//
// The poll handle is unref'd: a watch alone does not keep Node running. Watching is a
// side concern of whoever owns the process (a ChildProcess, a QMP socket, a server), and those
// keep the loop alive; an unref'd watch never holds up shutdown when someone forgets close().
Napi::Value StartWatchProcess(const Napi::CallbackInfo& info);

}  // namespace baton

#endif  // BATON_NATIVE_PROCESS_WATCH_H_

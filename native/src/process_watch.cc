// pidfd + uv_poll_t: the process's exit makes the pidfd readable, libuv wakes the main loop, onExit runs.
//
// Two objects with separate lifetimes:
//  - ActiveWatch (libuv side) lives from watchProcess until uv_close's callback. It holds the pidfd
//    and onExit strongly, so a watch keeps working when its JS handle is garbage-collected.
//  - ProcessWatch (the JS handle) only points at its ActiveWatch while the watch is active.
// Each clears the other's pointer when it goes first; everything runs on the main thread.
#include "process_watch.h"

#include <napi.h>
#include <sys/types.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "addon_data.h"
#include "args.h"
#include "errors.h"
#include "pidfd.h"
#include "unique_fd.h"

namespace baton {
namespace {

class ProcessWatch;

struct ActiveWatch {
  ActiveWatch(Napi::Env env_in, pid_t pid_in, int pidfd_in, Napi::Function on_exit_in)
      : env(env_in), pid(pid_in), pidfd(pidfd_in), on_exit(Napi::Persistent(on_exit_in)),
        async_context(std::make_unique<Napi::AsyncContext>(env_in, "baton:watchProcess")) {}

  uv_poll_t poll{};
  Napi::Env env;
  pid_t pid;
  UniqueFd pidfd;  // closed when this is deleted, after libuv has closed the poll handle
  Napi::FunctionReference on_exit;
  std::unique_ptr<Napi::AsyncContext> async_context;
  ProcessWatch* handle = nullptr;  // nullptr once the JS handle was garbage-collected
  // Registered until the poll handle is closed: environment teardown (a worker ending, Node exiting)
  // waits for it, so OnPollClosed never runs after the addon has been unloaded.
  napi_async_cleanup_hook_handle cleanup_hook = nullptr;
  bool is_closing = false;
};

void StopWatch(ActiveWatch* watch);

class ProcessWatch : public Napi::ObjectWrap<ProcessWatch> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "ProcessWatch", {InstanceMethod("close", &ProcessWatch::Close)});
  }

  explicit ProcessWatch(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ProcessWatch>(info) {}
  ProcessWatch(const ProcessWatch&) = delete;
  ProcessWatch& operator=(const ProcessWatch&) = delete;

  // Garbage-collected while still watching: the watch goes on; only the back-pointer goes.
  ~ProcessWatch() override {
    if (watch_ != nullptr) watch_->handle = nullptr;
  }

  void Attach(ActiveWatch* watch) {
    watch_ = watch;
    watch->handle = this;
  }
  void Detach() { watch_ = nullptr; }

 private:
  // Idempotent; a no-op once onExit has run.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (watch_ != nullptr) StopWatch(watch_);
    return info.Env().Undefined();
  }

  ActiveWatch* watch_ = nullptr;
};

// Last step of every watch: tells a waiting environment teardown that this watch is done.
void OnPollClosed(uv_handle_t* poll) {
  auto* watch = static_cast<ActiveWatch*>(poll->data);
  if (watch->cleanup_hook != nullptr) napi_remove_async_cleanup_hook(watch->cleanup_hook);
  delete watch;
}

// Environment teardown: stop now; the teardown waits until OnPollClosed removes the hook.
void OnEnvCleanup(napi_async_cleanup_hook_handle /*hook*/, void* arg) {
  auto* watch = static_cast<ActiveWatch*>(arg);
  if (!watch->is_closing) StopWatch(watch);
}

// Stops polling, detaches the JS handle, drops onExit; the fd closes once libuv has let go of it.
void StopWatch(ActiveWatch* watch) {
  watch->is_closing = true;
  uv_poll_stop(&watch->poll);
  if (watch->handle != nullptr) watch->handle->Detach();
  watch->handle = nullptr;
  watch->on_exit.Reset();
  watch->async_context.reset();
  uv_close(reinterpret_cast<uv_handle_t*>(&watch->poll), OnPollClosed);
}

// Raises `error` as an uncaught exception, like an error thrown from an event listener.
void RaiseUncaught(Napi::Env env, const Napi::Error& error) {
  // If even this fails, the environment is shutting down and there is nobody left to tell.
  napi_fatal_exception(env, error.Value());
}

void OnPidfdReadable(uv_poll_t* poll, int status, int /*events*/) {
  auto* watch = static_cast<ActiveWatch*>(poll->data);
  const Napi::Env env = watch->env;
  const pid_t pid = watch->pid;
  Napi::HandleScope scope(env);
  const Napi::Function on_exit = watch->on_exit.Value();
  const std::unique_ptr<Napi::AsyncContext> context = std::move(watch->async_context);
  StopWatch(watch);  // first, so onExit runs once even if it throws or calls close()
  if (status < 0) {
    const NativeFailure failure{"Watching process " + std::to_string(pid) + " failed: " +
                                    uv_err_name(status) + " (" + uv_strerror(status) + ")",
                                uv_err_name(status), "uv_poll", -status};
    RaiseUncaught(env, MakeNativeError(env, failure));
    return;
  }
  try {
    on_exit.MakeCallback(env.Global(), 0, nullptr, *context);
  } catch (const Napi::Error& error) {
    RaiseUncaught(env, error);
  }
}

[[noreturn]] void ThrowUvError(Napi::Env env, const char* call, int status, pid_t pid) {
  throw MakeNativeError(env, {"Watching process " + std::to_string(pid) + " failed: " + call + " " +
                                  uv_err_name(status) + " (" + uv_strerror(status) + ")",
                              uv_err_name(status), call, -status});
}

}  // namespace

Napi::Function DefineProcessWatchClass(Napi::Env env) { return ProcessWatch::Define(env); }

Napi::Value StartWatchProcess(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto pid = static_cast<pid_t>(ReadInteger(info, 0, "watchProcess", "pid", 1, 0x7fffffff));
  const Napi::Function on_exit = ReadFunction(info, 1, "watchProcess", "onExit");

  int raw_pidfd = -1;
  RunOrThrow(env, [&] { raw_pidfd = OpenPidfd(pid); });
  UniqueFd pidfd(raw_pidfd);

  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) throw Napi::Error::New(env);

  const Napi::Object handle = env.GetInstanceData<AddonData>()->process_watch_class.New({});
  auto watch = std::make_unique<ActiveWatch>(env, pid, pidfd.release(), on_exit);
  watch->poll.data = watch.get();
  const int init_status = uv_poll_init(loop, &watch->poll, watch->pidfd.get());
  if (init_status != 0) ThrowUvError(env, "uv_poll_init", init_status, pid);  // no handle to close yet
  const int start_status = uv_poll_start(&watch->poll, UV_READABLE, OnPidfdReadable);
  if (start_status != 0) {
    ActiveWatch* failed = watch.release();  // freed by OnPollClosed
    failed->async_context.reset();
    uv_close(reinterpret_cast<uv_handle_t*>(&failed->poll), OnPollClosed);
    ThrowUvError(env, "uv_poll_start", start_status, pid);
  }
  uv_unref(reinterpret_cast<uv_handle_t*>(&watch->poll));

  ActiveWatch* active = watch.release();  // freed by OnPollClosed after StopWatch
  if (napi_add_async_cleanup_hook(env, OnEnvCleanup, active, &active->cleanup_hook) != napi_ok) {
    StopWatch(active);
    throw Napi::Error::New(env, "Watching process " + std::to_string(pid) +
                                    " failed: cannot add an environment cleanup hook");
  }
  ProcessWatch::Unwrap(handle)->Attach(active);
  return handle;
}

}  // namespace baton

// Turns native failures into JS Error objects with stable `code`, `syscall` and `errno` properties.
#ifndef BATON_NATIVE_ERRORS_H_
#define BATON_NATIVE_ERRORS_H_

#include <napi.h>

#include <string>

#include "syscall_error.h"

namespace baton {

// Code for failures that are not a system call's errno (a C++ exception we did not expect).
constexpr const char* kInternalErrorCode = "NATIVE_INTERNAL";

// Plain data copied out of an exception on the worker thread, turned into a JS Error on the main thread.
struct NativeFailure {
  std::string message;
  std::string code;
  std::string syscall;  // empty when the failure was not a system call
  int errnum = 0;       // positive errno; 0 when the failure was not a system call
};

NativeFailure FailureFromSyscallError(const SyscallError& error);
NativeFailure FailureFromException(const std::exception& error);

// Main thread only. `errno` is negative, as on Node's own system errors (ENOENT is -2);
// `syscall` and `errno` are absent for internal failures.
Napi::Error MakeNativeError(Napi::Env env, const NativeFailure& failure);

}  // namespace baton

#endif  // BATON_NATIVE_ERRORS_H_

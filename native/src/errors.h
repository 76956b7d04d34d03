// Turns native failures into JS Error objects with stable `code`, `syscall` and `errno` properties.
#ifndef BATON_NATIVE_ERRORS_H_
#define BATON_NATIVE_ERRORS_H_

#include <napi.h>

#include <exception>
#include <optional>
#include <string>
#include <utility>

#include "coded_error.h"
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
NativeFailure FailureFromCodedError(const CodedError& error);
NativeFailure FailureFromException(const std::exception& error);

// Runs a Node-free core call and returns its failure, if any, as plain data. Any thread.
template <typename Call>
std::optional<NativeFailure> CaptureFailure(Call&& call) {
  try {
    call();
  } catch (const SyscallError& error) {
    return FailureFromSyscallError(error);
  } catch (const CodedError& error) {
    return FailureFromCodedError(error);
  } catch (const std::exception& error) {
    return FailureFromException(error);
  }
  return std::nullopt;
}

// Main thread only. `errno` is negative, as on Node's own system errors (ENOENT is -2);
// `syscall` and `errno` are absent for internal failures.
Napi::Error MakeNativeError(Napi::Env env, const NativeFailure& failure);

// Main thread: runs a core call synchronously and throws its failure as a JS Error (see MakeNativeError).
template <typename Call>
void RunOrThrow(Napi::Env env, Call&& call) {
  const std::optional<NativeFailure> failure = CaptureFailure(std::forward<Call>(call));
  if (failure.has_value()) throw MakeNativeError(env, *failure);
}

}  // namespace baton

#endif  // BATON_NATIVE_ERRORS_H_

// Builds the JS side of a native failure: an Error carrying code, syscall and errno as properties.
#include "errors.h"

#include <napi.h>

#include <string>

namespace baton {

NativeFailure FailureFromSyscallError(const SyscallError& error) {
  return {error.what(), error.code(), error.syscall(), error.errnum()};
}

NativeFailure FailureFromCodedError(const CodedError& error) { return {error.what(), error.code(), "", 0}; }

NativeFailure FailureFromException(const std::exception& error) {
  return {std::string("Native code failed unexpectedly: ") + error.what(), kInternalErrorCode, "", 0};
}

Napi::Error MakeNativeError(Napi::Env env, const NativeFailure& failure) {
  Napi::Error error = Napi::Error::New(env, failure.message);
  Napi::Object object = error.Value();
  object.Set("code", failure.code);
  if (!failure.syscall.empty()) {
    object.Set("syscall", failure.syscall);
    object.Set("errno", -failure.errnum);
  }
  return error;
}

}  // namespace baton

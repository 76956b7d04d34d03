// Argument guards shared by every export.
#include "args.h"

#include <napi.h>

#include <cmath>
#include <string>

namespace baton {
namespace {

[[noreturn]] void ThrowArgError(Napi::Env env, const char* code, const std::string& message) {
  Napi::TypeError error = Napi::TypeError::New(env, message);
  error.Set("code", code);
  throw error;
}

std::string Prefix(const char* function, const char* name) {
  return std::string(function) + ": " + name + " must be ";
}

}  // namespace

std::uint64_t ReadInteger(const Napi::CallbackInfo& info, std::size_t index, const char* function,
                          const char* name, std::uint64_t min, std::uint64_t max) {
  const Napi::Value value = info[index];
  const std::string range = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  if (!value.IsNumber()) ThrowArgError(info.Env(), "ERR_INVALID_ARG_TYPE", Prefix(function, name) + range);
  const double number = value.As<Napi::Number>().DoubleValue();
  // Compared as doubles: min and max are at most 2^53 - 1, so both convert exactly.
  if (!std::isfinite(number) || std::trunc(number) != number || number < static_cast<double>(min) ||
      number > static_cast<double>(max)) {
    ThrowArgError(info.Env(), "ERR_INVALID_ARG_VALUE",
                  Prefix(function, name) + range + ", got " + value.ToString().Utf8Value());
  }
  return static_cast<std::uint64_t>(number);
}

int ReadFd(const Napi::CallbackInfo& info, std::size_t index, const char* function) {
  return static_cast<int>(ReadInteger(info, index, function, "fd", 0, kMaxFd));
}

std::string ReadString(const Napi::CallbackInfo& info, std::size_t index, const char* function,
                       const char* name) {
  const Napi::Value value = info[index];
  if (!value.IsString()) {
    ThrowArgError(info.Env(), "ERR_INVALID_ARG_TYPE", Prefix(function, name) + "a string");
  }
  return value.As<Napi::String>().Utf8Value();
}

Napi::Uint8Array ReadBytes(const Napi::CallbackInfo& info, std::size_t index, const char* function,
                           const char* name) {
  const Napi::Value value = info[index];
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    ThrowArgError(info.Env(), "ERR_INVALID_ARG_TYPE", Prefix(function, name) + "a Buffer or Uint8Array");
  }
  return value.As<Napi::Uint8Array>();
}

Napi::Function ReadFunction(const Napi::CallbackInfo& info, std::size_t index, const char* function,
                            const char* name) {
  const Napi::Value value = info[index];
  if (!value.IsFunction()) {
    ThrowArgError(info.Env(), "ERR_INVALID_ARG_TYPE", Prefix(function, name) + "a function");
  }
  return value.As<Napi::Function>();
}

}  // namespace baton

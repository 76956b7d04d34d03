// Argument guards for the exports: a wrong type or value becomes a TypeError with a stable code
// instead of undefined behaviour in C++. The TS binding validates first with the same rules.
#ifndef BATON_NATIVE_ARGS_H_
#define BATON_NATIVE_ARGS_H_

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace baton {

// Number.MAX_SAFE_INTEGER: the largest integer a JS number holds exactly.
constexpr std::uint64_t kMaxSafeInteger = (std::uint64_t{1} << 53) - 1;
constexpr std::uint64_t kMaxFd = 0x7fffffff;

// An integer in [min, max]. TypeError ERR_INVALID_ARG_TYPE when not a number, ERR_INVALID_ARG_VALUE
// when not an integer in range.
std::uint64_t ReadInteger(const Napi::CallbackInfo& info, std::size_t index, const char* function,
                          const char* name, std::uint64_t min, std::uint64_t max);

// A file descriptor: an integer in [0, 2^31 - 1].
int ReadFd(const Napi::CallbackInfo& info, std::size_t index, const char* function);

std::string ReadString(const Napi::CallbackInfo& info, std::size_t index, const char* function,
                       const char* name);

// A Uint8Array (a Buffer is one).
Napi::Uint8Array ReadBytes(const Napi::CallbackInfo& info, std::size_t index, const char* function,
                           const char* name);

Napi::Function ReadFunction(const Napi::CallbackInfo& info, std::size_t index, const char* function,
                            const char* name);

}  // namespace baton

#endif  // BATON_NATIVE_ARGS_H_

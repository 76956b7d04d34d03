// Binds the memfd core: small reads and writes run inline, punch-hole and scrub on a worker thread.
#include "memfd_area_exports.h"

#include <napi.h>

#include <cstdint>
#include <string>

#include "args.h"
#include "core_call_worker.h"
#include "errors.h"
#include "memfd_area.h"

namespace baton {
namespace {

struct AreaRange {
  int fd;
  std::uint64_t offset_bytes;
  std::uint64_t length_bytes;
};

// Punching and scrubbing an empty range is refused: it would report success for nothing done.
AreaRange ReadHoleRange(const Napi::CallbackInfo& info, const char* function) {
  return {ReadFd(info, 0, function), ReadInteger(info, 1, function, "offsetBytes", 0, kMaxSafeInteger),
          ReadInteger(info, 2, function, "lengthBytes", 1, kMaxSafeInteger)};
}

}  // namespace

Napi::Value MemfdCreate(const Napi::CallbackInfo& info) {
  const std::string name = ReadString(info, 0, "memfdCreate", "name");
  const std::uint64_t size_bytes = ReadInteger(info, 1, "memfdCreate", "sizeBytes", 0, kMaxSafeInteger);
  int fd = -1;
  RunOrThrow(info.Env(), [&] { fd = CreateMemfd(name, size_bytes); });
  return Napi::Number::New(info.Env(), fd);
}

Napi::Value MemfdWrite(const Napi::CallbackInfo& info) {
  const int fd = ReadFd(info, 0, "memfdWrite");
  const std::uint64_t offset_bytes = ReadInteger(info, 1, "memfdWrite", "offsetBytes", 0, kMaxSafeInteger);
  const Napi::Uint8Array data = ReadBytes(info, 2, "memfdWrite", "data");
  RunOrThrow(info.Env(), [&] { WriteArea(fd, offset_bytes, data.Data(), data.ByteLength()); });
  return info.Env().Undefined();
}

Napi::Value MemfdRead(const Napi::CallbackInfo& info) {
  const int fd = ReadFd(info, 0, "memfdRead");
  const std::uint64_t offset_bytes = ReadInteger(info, 1, "memfdRead", "offsetBytes", 0, kMaxSafeInteger);
  const std::uint64_t length_bytes = ReadInteger(info, 2, "memfdRead", "lengthBytes", 0, kMaxSafeInteger);
  Napi::Buffer<std::uint8_t> buffer = Napi::Buffer<std::uint8_t>::New(info.Env(), length_bytes);
  std::size_t read_bytes = 0;
  RunOrThrow(info.Env(), [&] { read_bytes = ReadArea(fd, offset_bytes, buffer.Data(), buffer.Length()); });
  if (read_bytes == buffer.Length()) return buffer;
  return Napi::Buffer<std::uint8_t>::Copy(info.Env(), buffer.Data(), read_bytes);  // stopped at end of file
}

Napi::Value StartPunchHole(const Napi::CallbackInfo& info) {
  const AreaRange range = ReadHoleRange(info, "punchHole");
  return QueueCoreCall(info.Env(), "baton:punchHole",
                       [range] { PunchHole(range.fd, range.offset_bytes, range.length_bytes); });
}

Napi::Value StartScrubArea(const Napi::CallbackInfo& info) {
  const AreaRange range = ReadHoleRange(info, "scrubArea");
  return QueueCoreCall(info.Env(), "baton:scrubArea",
                       [range] { ScrubArea(range.fd, range.offset_bytes, range.length_bytes); });
}

}  // namespace baton

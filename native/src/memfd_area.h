// Node-free memfd areas: create, read and write by offset, punch holes, scrub (punch + verify zeros).
#ifndef BATON_NATIVE_MEMFD_AREA_H_
#define BATON_NATIVE_MEMFD_AREA_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace baton {

// CodedError code when a scrubbed range still reads back non-zero after the hole was punched.
constexpr const char* kScrubFailedCode = "SCRUB_FAILED";
// CodedError code when offset + length does not fit in off_t.
constexpr const char* kRangeTooLargeCode = "ERR_OUT_OF_RANGE";
// ScrubArea verifies the range in reads of at most this many bytes, so any size needs little memory.
constexpr std::size_t kScrubVerifyChunkBytes = std::size_t{1} << 20;

// memfd_create(name, MFD_CLOEXEC) then ftruncate to size_bytes. Returns the fd; the caller owns it.
// Throws SyscallError (memfd_create, ftruncate).
int CreateMemfd(const std::string& name, std::uint64_t size_bytes);

// pwrite of all `length_bytes`, retrying short writes and EINTR. Writing past the end grows the file.
// Throws SyscallError (pwrite).
void WriteArea(int fd, std::uint64_t offset_bytes, const std::uint8_t* data, std::size_t length_bytes);

// pread of up to `length_bytes` into `data`, retrying short reads and EINTR. Returns the bytes read:
// fewer than asked only when the range passes the end of the file. Throws SyscallError (pread).
std::size_t ReadArea(int fd, std::uint64_t offset_bytes, std::uint8_t* data, std::size_t length_bytes);

// fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE): frees the range's pages, which then read as
// zeros; the file size does not change. Throws SyscallError (fallocate).
void PunchHole(int fd, std::uint64_t offset_bytes, std::uint64_t length_bytes);

// Reads the range back in chunks and throws CodedError(kScrubFailedCode) naming the first non-zero
// byte. Bytes past the end of the file are not there to check. Throws SyscallError (pread).
void VerifyZeroed(int fd, std::uint64_t offset_bytes, std::uint64_t length_bytes);

// PunchHole, then VerifyZeroed. Blocking; safe on any thread.
void ScrubArea(int fd, std::uint64_t offset_bytes, std::uint64_t length_bytes);

}  // namespace baton

#endif  // BATON_NATIVE_MEMFD_AREA_H_

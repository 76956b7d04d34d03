// memfd areas with memfd_create, pread/pwrite and fallocate punch-hole.
#include "memfd_area.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "coded_error.h"
#include "syscall_error.h"
#include "unique_fd.h"

namespace baton {
namespace {

constexpr std::uint64_t kMaxOffset = static_cast<std::uint64_t>(std::numeric_limits<off_t>::max());

std::string DescribeRange(int fd, std::uint64_t offset_bytes, std::uint64_t length_bytes) {
  return "bytes [" + std::to_string(offset_bytes) + ", " + std::to_string(offset_bytes + length_bytes) +
         ") of fd " + std::to_string(fd);
}

// Rejects ranges whose end does not fit in off_t, before any cast to off_t.
void CheckRange(const char* action, int fd, std::uint64_t offset_bytes, std::uint64_t length_bytes) {
  if (offset_bytes <= kMaxOffset && length_bytes <= kMaxOffset - offset_bytes) return;
  throw CodedError(kRangeTooLargeCode, std::string(action) + " fd " + std::to_string(fd) + " at offset " +
                                           std::to_string(offset_bytes) + " for " +
                                           std::to_string(length_bytes) + " bytes failed: the range ends "
                                           "past the largest file offset");
}

}  // namespace

int CreateMemfd(const std::string& name, std::uint64_t size_bytes) {
  if (size_bytes > kMaxOffset) {
    throw CodedError(kRangeTooLargeCode, "Creating memfd " + name + " of " + std::to_string(size_bytes) +
                                             " bytes failed: larger than the largest file size");
  }
  UniqueFd fd(memfd_create(name.c_str(), MFD_CLOEXEC));
  if (fd.get() < 0) throw SyscallError("memfd_create", errno, "Creating memfd " + name);
  if (ftruncate(fd.get(), static_cast<off_t>(size_bytes)) != 0) {
    throw SyscallError("ftruncate", errno,
                       "Sizing memfd " + name + " to " + std::to_string(size_bytes) + " bytes");
  }
  return fd.release();
}

void WriteArea(int fd, std::uint64_t offset_bytes, const std::uint8_t* data, std::size_t length_bytes) {
  CheckRange("Writing", fd, offset_bytes, length_bytes);
  std::size_t written = 0;
  while (written < length_bytes) {
    const ssize_t count =
        pwrite(fd, data + written, length_bytes - written, static_cast<off_t>(offset_bytes + written));
    if (count < 0 && errno == EINTR) continue;
    // pwrite never returns 0 for a non-empty write to a regular file; treat it as no space to be safe.
    if (count <= 0) {
      throw SyscallError("pwrite", count < 0 ? errno : ENOSPC,
                         "Writing " + DescribeRange(fd, offset_bytes, length_bytes));
    }
    written += static_cast<std::size_t>(count);
  }
}

std::size_t ReadArea(int fd, std::uint64_t offset_bytes, std::uint8_t* data, std::size_t length_bytes) {
  CheckRange("Reading", fd, offset_bytes, length_bytes);
  std::size_t read_bytes = 0;
  while (read_bytes < length_bytes) {
    const ssize_t count = pread(fd, data + read_bytes, length_bytes - read_bytes,
                                static_cast<off_t>(offset_bytes + read_bytes));
    if (count < 0 && errno == EINTR) continue;
    if (count < 0) {
      throw SyscallError("pread", errno, "Reading " + DescribeRange(fd, offset_bytes, length_bytes));
    }
    if (count == 0) break;  // end of file
    read_bytes += static_cast<std::size_t>(count);
  }
  return read_bytes;
}

void PunchHole(int fd, std::uint64_t offset_bytes, std::uint64_t length_bytes) {
  CheckRange("Punching a hole in", fd, offset_bytes, length_bytes);
  int result;
  do {
    result = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset_bytes),
                       static_cast<off_t>(length_bytes));
  } while (result != 0 && errno == EINTR);
  if (result != 0) {
    throw SyscallError("fallocate", errno,
                       "Punching a hole in " + DescribeRange(fd, offset_bytes, length_bytes));
  }
}

void VerifyZeroed(int fd, std::uint64_t offset_bytes, std::uint64_t length_bytes) {
  CheckRange("Verifying", fd, offset_bytes, length_bytes);
  const auto chunk_bytes =
      static_cast<std::size_t>(std::min<std::uint64_t>(length_bytes, kScrubVerifyChunkBytes));
  std::vector<std::uint8_t> chunk(chunk_bytes);
  std::uint64_t checked = 0;
  while (checked < length_bytes) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(length_bytes - checked, chunk_bytes));
    const std::size_t got = ReadArea(fd, offset_bytes + checked, chunk.data(), want);
    for (std::size_t index = 0; index < got; ++index) {
      if (chunk[index] == 0) continue;
      char value[8];
      std::snprintf(value, sizeof value, "0x%02x", chunk[index]);
      const std::uint64_t dirty_offset = offset_bytes + checked + index;
      throw CodedError(kScrubFailedCode, "Scrubbing " + DescribeRange(fd, offset_bytes, length_bytes) +
                                             " failed: offset " + std::to_string(dirty_offset) + " reads " +
                                             value + ", not zero, after the hole was punched");
    }
    if (got < want) return;  // end of file: nothing past it to check
    checked += got;
  }
}

void ScrubArea(int fd, std::uint64_t offset_bytes, std::uint64_t length_bytes) {
  PunchHole(fd, offset_bytes, length_bytes);
  VerifyZeroed(fd, offset_bytes, length_bytes);
}

}  // namespace baton

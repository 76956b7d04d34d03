// Tests memfd areas on real memfds: sizes, round trips, punched holes, scrub verification, errors.
#include "../src/memfd_area.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "../src/coded_error.h"
#include "../src/syscall_error.h"
#include "../src/unique_fd.h"
#include "check.h"
#include "suites.h"

namespace {

using baton::CodedError;
using baton::SyscallError;
using baton::UniqueFd;
using baton_test::Contains;

constexpr std::size_t kPageBytes = 4096;

struct stat StatFd(int fd) {
  struct stat info {};
  if (fstat(fd, &info) != 0) throw SyscallError("fstat", errno, "Reading fd " + std::to_string(fd));
  return info;
}

std::vector<std::uint8_t> Read(int fd, std::uint64_t offset_bytes, std::size_t length_bytes) {
  std::vector<std::uint8_t> data(length_bytes);
  data.resize(baton::ReadArea(fd, offset_bytes, data.data(), data.size()));
  return data;
}

bool AllEqual(const std::vector<std::uint8_t>& data, std::uint8_t value) {
  for (const std::uint8_t byte : data) {
    if (byte != value) return false;
  }
  return true;
}

// A memfd of `size_bytes`, every byte set to `fill`.
UniqueFd MakeFilledMemfd(std::size_t size_bytes, std::uint8_t fill) {
  UniqueFd fd(baton::CreateMemfd("baton-test", size_bytes));
  const std::vector<std::uint8_t> data(size_bytes, fill);
  baton::WriteArea(fd.get(), 0, data.data(), data.size());
  return fd;
}

// The same memfd reopened read-only through /proc, for EBADF on writes.
UniqueFd ReopenReadOnly(int fd) {
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  UniqueFd read_only(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (read_only.get() < 0) throw SyscallError("open", errno, "Opening " + path);
  return read_only;
}

void CreatesMemfdOfTheGivenSize() {
  const UniqueFd fd(baton::CreateMemfd("baton-test-area", 3 * kPageBytes + 5));
  EXPECT(StatFd(fd.get()).st_size == static_cast<off_t>(3 * kPageBytes + 5));
  EXPECT((fcntl(fd.get(), F_GETFD) & FD_CLOEXEC) != 0);
  char target[256] = {};
  const std::string link = "/proc/self/fd/" + std::to_string(fd.get());
  EXPECT(readlink(link.c_str(), target, sizeof target - 1) > 0);
  EXPECT(Contains(target, "memfd:baton-test-area"));
  EXPECT(AllEqual(Read(fd.get(), 0, 3 * kPageBytes + 5), 0));
}

void WritesAndReadsBackAtAnOffset() {
  const UniqueFd fd(baton::CreateMemfd("baton-test", 4 * kPageBytes));
  std::vector<std::uint8_t> pattern(kPageBytes + 100);
  for (std::size_t index = 0; index < pattern.size(); ++index) {
    pattern[index] = static_cast<std::uint8_t>(index * 7);
  }
  baton::WriteArea(fd.get(), kPageBytes + 7, pattern.data(), pattern.size());
  EXPECT(Read(fd.get(), kPageBytes + 7, pattern.size()) == pattern);
  EXPECT(AllEqual(Read(fd.get(), 0, kPageBytes + 7), 0));
}

void ReadsShortOnlyAtTheEndOfTheFile() {
  const UniqueFd fd(baton::CreateMemfd("baton-test", kPageBytes));
  EXPECT(Read(fd.get(), kPageBytes - 10, 100).size() == 10);
  EXPECT(Read(fd.get(), kPageBytes + 10, 100).empty());
}

void PunchesAHoleThatReadsZerosAndKeepsTheSize() {
  const UniqueFd fd = MakeFilledMemfd(4 * kPageBytes, 0xab);
  const struct stat before = StatFd(fd.get());
  baton::PunchHole(fd.get(), kPageBytes, 2 * kPageBytes);
  const struct stat after = StatFd(fd.get());
  EXPECT(after.st_size == before.st_size);
  EXPECT(after.st_blocks < before.st_blocks);  // the pages were freed, not just overwritten
  EXPECT(AllEqual(Read(fd.get(), 0, kPageBytes), 0xab));
  EXPECT(AllEqual(Read(fd.get(), kPageBytes, 2 * kPageBytes), 0));
  EXPECT(AllEqual(Read(fd.get(), 3 * kPageBytes, kPageBytes), 0xab));
}

void ScrubsAnUnalignedRangeLargerThanOneVerifyChunk() {
  const std::size_t size_bytes = 4 * baton::kScrubVerifyChunkBytes;
  const std::uint64_t offset_bytes = 100;
  const std::uint64_t length_bytes = 2 * baton::kScrubVerifyChunkBytes + 50;
  const UniqueFd fd = MakeFilledMemfd(size_bytes, 0xcd);
  baton::ScrubArea(fd.get(), offset_bytes, length_bytes);
  EXPECT(AllEqual(Read(fd.get(), 0, offset_bytes), 0xcd));
  EXPECT(AllEqual(Read(fd.get(), offset_bytes, length_bytes), 0));
  const std::uint64_t end = offset_bytes + length_bytes;
  EXPECT(AllEqual(Read(fd.get(), end, size_bytes - end), 0xcd));
  EXPECT(StatFd(fd.get()).st_size == static_cast<off_t>(size_bytes));
}

void VerifyNamesTheFirstNonZeroByte() {
  const UniqueFd fd(baton::CreateMemfd("baton-test", 2 * baton::kScrubVerifyChunkBytes));
  const std::uint8_t dirty[] = {0x5a, 0x5b};
  const std::uint64_t dirty_offset = baton::kScrubVerifyChunkBytes + 4567;  // in the second chunk
  baton::WriteArea(fd.get(), dirty_offset, dirty, sizeof dirty);
  const auto error =
      CATCH_AS(CodedError, [&] { baton::VerifyZeroed(fd.get(), 0, 2 * baton::kScrubVerifyChunkBytes); });
  if (!error.has_value()) return;
  EXPECT(error->code() == baton::kScrubFailedCode);
  EXPECT(Contains(error->what(), "Scrubbing bytes [0, 2097152) of fd "));
  EXPECT(Contains(error->what(), "offset " + std::to_string(dirty_offset) + " reads 0x5a, not zero"));
  baton::VerifyZeroed(fd.get(), 0, dirty_offset);  // the clean part before it passes
}

void VerifyStopsAtTheEndOfTheFile() {
  const UniqueFd fd(baton::CreateMemfd("baton-test", kPageBytes));
  baton::VerifyZeroed(fd.get(), 0, 8 * kPageBytes);
  baton::VerifyZeroed(fd.get(), 16 * kPageBytes, kPageBytes);
}

void ReportsFailedSyscallsWithTheirErrno() {
  const UniqueFd fd(baton::CreateMemfd("baton-test", kPageBytes));
  const UniqueFd read_only = ReopenReadOnly(fd.get());
  const std::uint8_t byte = 1;
  const auto write_error = CATCH_AS(SyscallError, [&] { baton::WriteArea(read_only.get(), 0, &byte, 1); });
  if (write_error.has_value()) {
    EXPECT(write_error->code() == "EBADF");
    EXPECT(write_error->syscall() == "pwrite");
    EXPECT(Contains(write_error->what(), "Writing bytes [0, 1) of fd "));
  }
  const auto punch_error = CATCH_AS(SyscallError, [&] { baton::PunchHole(read_only.get(), 0, kPageBytes); });
  if (punch_error.has_value()) {
    EXPECT(punch_error->code() == "EBADF");
    EXPECT(punch_error->syscall() == "fallocate");
  }
  int pipe_fds[2];
  EXPECT(pipe2(pipe_fds, O_CLOEXEC) == 0);
  const UniqueFd pipe_read(pipe_fds[0]);
  const UniqueFd pipe_write(pipe_fds[1]);
  const auto pipe_error = CATCH_AS(SyscallError, [&] { baton::ScrubArea(pipe_write.get(), 0, kPageBytes); });
  if (pipe_error.has_value()) EXPECT(pipe_error->code() == "ESPIPE");
  const auto name_error = CATCH_AS(SyscallError, [&] { baton::CreateMemfd(std::string(300, 'n'), 0); });
  if (name_error.has_value()) {
    EXPECT(name_error->code() == "EINVAL");
    EXPECT(name_error->syscall() == "memfd_create");
  }
  const auto bad_fd_error = CATCH_AS(SyscallError, [&] { Read(-1, 0, 1); });
  if (bad_fd_error.has_value()) EXPECT(bad_fd_error->code() == "EBADF" && bad_fd_error->syscall() == "pread");
}

void RejectsRangesPastTheLargestOffset() {
  const UniqueFd fd(baton::CreateMemfd("baton-test", kPageBytes));
  const std::uint64_t max_offset = std::numeric_limits<off_t>::max();
  const auto error = CATCH_AS(CodedError, [&] { baton::PunchHole(fd.get(), max_offset, 2); });
  if (error.has_value()) EXPECT(error->code() == baton::kRangeTooLargeCode);
}

}  // namespace

std::vector<baton_test::TestCase> MemfdAreaTests() {
  return {
      {"creates a close-on-exec memfd of the given size", CreatesMemfdOfTheGivenSize},
      {"writes and reads back at an offset", WritesAndReadsBackAtAnOffset},
      {"reads short only at the end of the file", ReadsShortOnlyAtTheEndOfTheFile},
      {"punches a hole that reads zeros and keeps the size", PunchesAHoleThatReadsZerosAndKeepsTheSize},
      {"scrubs an unaligned range larger than one verify chunk",
       ScrubsAnUnalignedRangeLargerThanOneVerifyChunk},
      {"verify names the first non-zero byte", VerifyNamesTheFirstNonZeroByte},
      {"verify stops at the end of the file", VerifyStopsAtTheEndOfTheFile},
      {"reports failed syscalls with their errno", ReportsFailedSyscallsWithTheirErrno},
      {"rejects ranges past the largest offset", RejectsRangesPastTheLargestOffset},
  };
}

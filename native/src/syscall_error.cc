// Errno names and descriptions from a fixed table, so codes never depend on the C library's locale.
#include "syscall_error.h"

#include <cerrno>
#include <string>
#include <utility>

namespace baton {
namespace {

struct ErrnoEntry {
  int errnum;
  const char* name;
  const char* description;
};

// The errnos our system calls can plausibly return; anything else falls back to its number.
constexpr ErrnoEntry kErrnoTable[] = {
    {EPERM, "EPERM", "operation not permitted"},
    {ENOENT, "ENOENT", "no such file or directory"},
    {ESRCH, "ESRCH", "no such process"},
    {EINTR, "EINTR", "interrupted system call"},
    {EIO, "EIO", "input/output error"},
    {ENXIO, "ENXIO", "no such device or address"},
    {EBADF, "EBADF", "bad file descriptor"},
    {ECHILD, "ECHILD", "no child processes"},
    {EAGAIN, "EAGAIN", "resource temporarily unavailable"},
    {ENOMEM, "ENOMEM", "cannot allocate memory"},
    {EACCES, "EACCES", "permission denied"},
    {EFAULT, "EFAULT", "bad address"},
    {EBUSY, "EBUSY", "device or resource busy"},
    {EEXIST, "EEXIST", "file exists"},
    {ENODEV, "ENODEV", "no such device"},
    {ENOTDIR, "ENOTDIR", "not a directory"},
    {EISDIR, "EISDIR", "is a directory"},
    {EINVAL, "EINVAL", "invalid argument"},
    {ENFILE, "ENFILE", "too many open files in system"},
    {EMFILE, "EMFILE", "too many open files"},
    {ENOTTY, "ENOTTY", "inappropriate ioctl for device"},
    {EFBIG, "EFBIG", "file too large"},
    {ENOSPC, "ENOSPC", "no space left on device"},
    {ESPIPE, "ESPIPE", "illegal seek"},
    {EROFS, "EROFS", "read-only file system"},
    {ENAMETOOLONG, "ENAMETOOLONG", "file name too long"},
    {ELOOP, "ELOOP", "too many levels of symbolic links"},
    {ENOSYS, "ENOSYS", "function not implemented"},
    {EOVERFLOW, "EOVERFLOW", "value too large for defined data type"},
    {ENOTSOCK, "ENOTSOCK", "socket operation on non-socket"},
    {ENOPROTOOPT, "ENOPROTOOPT", "protocol not available"},
    {EOPNOTSUPP, "EOPNOTSUPP", "operation not supported"},
    {ENOTCONN, "ENOTCONN", "transport endpoint is not connected"},
};

const ErrnoEntry* FindErrno(int errnum) {
  for (const ErrnoEntry& entry : kErrnoTable) {
    if (entry.errnum == errnum) return &entry;
  }
  return nullptr;
}

}  // namespace

std::string ErrnoName(int errnum) {
  const ErrnoEntry* entry = FindErrno(errnum);
  return entry != nullptr ? entry->name : "ERRNO_" + std::to_string(errnum);
}

std::string ErrnoDescription(int errnum) {
  const ErrnoEntry* entry = FindErrno(errnum);
  return entry != nullptr ? entry->description : "errno " + std::to_string(errnum);
}

SyscallError::SyscallError(std::string syscall, int errnum, const std::string& what_failed)
    : std::runtime_error(what_failed + " failed: " + ErrnoName(errnum) + " (" +
                         ErrnoDescription(errnum) + ")"),
      code_(ErrnoName(errnum)),
      syscall_(std::move(syscall)),
      errnum_(errnum) {}

}  // namespace baton

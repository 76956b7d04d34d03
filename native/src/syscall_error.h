// A failed system call as plain C++ data: errno name, syscall and message, with no Node types.
#ifndef BATON_NATIVE_SYSCALL_ERROR_H_
#define BATON_NATIVE_SYSCALL_ERROR_H_

#include <stdexcept>
#include <string>

namespace baton {

// Thrown by the Node-free core for failures the caller cannot act on as a result value.
// errors.cc turns it into a JS Error with the same code, syscall and errno.
class SyscallError : public std::runtime_error {
 public:
  // `what_failed` says what was attempted, e.g. "Opening /dev/kvm"; errno goes after it.
  SyscallError(std::string syscall, int errnum, const std::string& what_failed);

  // Stable errno name such as "EACCES"; "ERRNO_<n>" for numbers the table does not know.
  const std::string& code() const { return code_; }
  const std::string& syscall() const { return syscall_; }
  int errnum() const { return errnum_; }

 private:
  std::string code_;
  std::string syscall_;
  int errnum_;
};

// Stable name of an errno value ("ENOENT"), or "ERRNO_<n>" when unknown.
std::string ErrnoName(int errnum);

// Short lower-case description of an errno value ("no such file or directory").
std::string ErrnoDescription(int errnum);

}  // namespace baton

#endif  // BATON_NATIVE_SYSCALL_ERROR_H_

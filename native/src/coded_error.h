// A failure with a stable code but no system call behind it (e.g. SCRUB_FAILED); Node-free.
#ifndef BATON_NATIVE_CODED_ERROR_H_
#define BATON_NATIVE_CODED_ERROR_H_

#include <stdexcept>
#include <string>
#include <utility>

namespace baton {

// errors.cc turns it into a JS Error with `code` and no `syscall` or `errno`.
class CodedError : public std::runtime_error {
 public:
  CodedError(std::string code, const std::string& message)
      : std::runtime_error(message), code_(std::move(code)) {}

  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

}  // namespace baton

#endif  // BATON_NATIVE_CODED_ERROR_H_

// Owns one file descriptor and closes it on scope exit; Node-free.
#ifndef BATON_NATIVE_UNIQUE_FD_H_
#define BATON_NATIVE_UNIQUE_FD_H_

#include <unistd.h>

namespace baton {

class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = other.release();
    }
    return *this;
  }
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }

  // Gives up ownership without closing.
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

  // Best effort: callers that need close()'s result for data integrity close explicitly instead;
  // nothing this addon owns through UniqueFd has data left to flush.
  void reset() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

}  // namespace baton

#endif  // BATON_NATIVE_UNIQUE_FD_H_

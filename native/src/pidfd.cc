// pidfd_open through syscall(2), since older C libraries have no wrapper, and a poll for exit.
#include "pidfd.h"

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "syscall_error.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434  // the same number on every architecture that has it
#endif

namespace baton {

int OpenPidfd(pid_t pid) {
  const long fd = syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) throw SyscallError("pidfd_open", errno, "Watching process " + std::to_string(pid));
  return static_cast<int>(fd);
}

bool WaitForPidfdExit(int pidfd, int timeout_ms) {
  struct pollfd entry {};
  entry.fd = pidfd;
  entry.events = POLLIN;
  for (;;) {
    const int ready = poll(&entry, 1, timeout_ms);
    if (ready > 0) return true;
    if (ready == 0) return false;
    if (errno != EINTR) {
      throw SyscallError("poll", errno, "Waiting for the exit of pidfd " + std::to_string(pidfd));
    }
  }
}

}  // namespace baton

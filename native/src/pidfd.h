// Node-free pidfd: a file descriptor for a process that becomes readable when the process exits.
#ifndef BATON_NATIVE_PIDFD_H_
#define BATON_NATIVE_PIDFD_H_

#include <sys/types.h>

namespace baton {

// pidfd_open(pid, 0) (Linux >= 5.3; the fd is close-on-exec). Returns the fd; the caller owns it.
// Throws SyscallError (pidfd_open: ESRCH for no such process, ENOSYS on older kernels).
int OpenPidfd(pid_t pid);

// poll(POLLIN) for up to timeout_ms (-1 waits forever): true once the process has exited.
// Throws SyscallError (poll).
bool WaitForPidfdExit(int pidfd, int timeout_ms);

}  // namespace baton

#endif  // BATON_NATIVE_PIDFD_H_

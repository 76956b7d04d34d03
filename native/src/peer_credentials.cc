// Reads SO_PEERCRED and tells "no credentials" (uid -1) apart from real ones.
#include "peer_credentials.h"

#include <sys/socket.h>

#include <cerrno>
#include <string>

#include "coded_error.h"
#include "syscall_error.h"

namespace baton {

PeerCredentials ReadPeerCredentials(int fd) {
  struct ucred credentials {};
  socklen_t size = sizeof credentials;
  const std::string what = "Reading the peer credentials of fd " + std::to_string(fd);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &size) != 0) {
    throw SyscallError("getsockopt", errno, what);
  }
  // The kernel reports uid and gid -1 (and pid 0) for a socket that has no peer credentials:
  // an unconnected unix socket or one of another family.
  if (size != sizeof credentials || credentials.uid == static_cast<uid_t>(-1)) {
    throw CodedError(kNoPeerCredentialsCode,
                     what + " failed: it has none (not a connected unix socket)");
  }
  return {credentials.pid, credentials.uid, credentials.gid};
}

}  // namespace baton

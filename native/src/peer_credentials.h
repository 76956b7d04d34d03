// Node-free SO_PEERCRED: who is on the other end of a connected unix socket.
#ifndef BATON_NATIVE_PEER_CREDENTIALS_H_
#define BATON_NATIVE_PEER_CREDENTIALS_H_

#include <sys/types.h>

namespace baton {

// CodedError code when the socket has no peer credentials (unconnected, or not a unix socket).
constexpr const char* kNoPeerCredentialsCode = "NO_PEER_CREDENTIALS";

struct PeerCredentials {
  pid_t pid;  // 0 when the peer's process is outside this process's PID namespace
  uid_t uid;
  gid_t gid;
};

// getsockopt(SO_PEERCRED): the credentials the peer had when it connected (or called socketpair).
// Throws SyscallError (getsockopt, e.g. ENOTSOCK) or CodedError(kNoPeerCredentialsCode).
PeerCredentials ReadPeerCredentials(int fd);

}  // namespace baton

#endif  // BATON_NATIVE_PEER_CREDENTIALS_H_

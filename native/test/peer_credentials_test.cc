// Tests SO_PEERCRED on a socketpair, on a connection from a forked child, and on sockets without a peer.
#include "../src/peer_credentials.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "../src/coded_error.h"
#include "../src/syscall_error.h"
#include "../src/unique_fd.h"
#include "check.h"
#include "suites.h"

namespace {

using baton::CodedError;
using baton::PeerCredentials;
using baton::SyscallError;
using baton::UniqueFd;

UniqueFd MakeSocket(int family, int type) {
  UniqueFd fd(socket(family, type | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) throw SyscallError("socket", errno, "Creating a socket");
  return fd;
}

// An abstract-namespace address unique to this process, so nothing is left on disk.
socklen_t MakeAbstractAddress(sockaddr_un& address) {
  const std::string name = "baton-peer-credentials-test-" + std::to_string(getpid());
  address = {};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path + 1, name.data(), name.size());
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
}

void ReadsOwnCredentialsFromASocketpair() {
  int fds[2];
  EXPECT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
  const UniqueFd left(fds[0]);
  const UniqueFd right(fds[1]);
  for (const int fd : {left.get(), right.get()}) {
    const PeerCredentials credentials = baton::ReadPeerCredentials(fd);
    EXPECT(credentials.pid == getpid());
    EXPECT(credentials.uid == getuid());
    EXPECT(credentials.gid == getgid());
  }
}

void ReadsTheCredentialsOfAConnectingChild() {
  const UniqueFd listener = MakeSocket(AF_UNIX, SOCK_STREAM);
  sockaddr_un address;
  const socklen_t address_size = MakeAbstractAddress(address);
  EXPECT(bind(listener.get(), reinterpret_cast<sockaddr*>(&address), address_size) == 0);
  EXPECT(listen(listener.get(), 1) == 0);
  const pid_t child = fork();
  if (child == 0) {
    // Child: connect, then wait for the parent to hang up, so the peer is still alive when read.
    const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), address_size) != 0) _exit(2);
    char byte;
    while (read(fd, &byte, 1) > 0) {
    }
    _exit(0);
  }
  EXPECT(child > 0);
  if (child <= 0) return;
  {
    const UniqueFd connection(accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    EXPECT(connection.get() >= 0);
    const PeerCredentials credentials = baton::ReadPeerCredentials(connection.get());
    EXPECT(credentials.pid == child);
    EXPECT(credentials.uid == getuid());
    EXPECT(credentials.gid == getgid());
  }
  int status = 0;
  EXPECT(waitpid(child, &status, 0) == child);
  EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

void RejectsANonSocketWithEnotsock() {
  int fds[2];
  EXPECT(pipe2(fds, O_CLOEXEC) == 0);
  const UniqueFd read_end(fds[0]);
  const UniqueFd write_end(fds[1]);
  const auto error = CATCH_AS(SyscallError, [&] { baton::ReadPeerCredentials(read_end.get()); });
  if (!error.has_value()) return;
  EXPECT(error->code() == "ENOTSOCK");
  EXPECT(error->syscall() == "getsockopt");
  EXPECT(error->what() == "Reading the peer credentials of fd " + std::to_string(read_end.get()) +
                              " failed: ENOTSOCK (socket operation on non-socket)");
}

void ReportsSocketsWithoutAPeerAsHavingNone() {
  for (const int family : {AF_UNIX, AF_INET}) {
    const UniqueFd fd = MakeSocket(family, SOCK_STREAM);
    const auto error = CATCH_AS(CodedError, [&] { baton::ReadPeerCredentials(fd.get()); });
    if (!error.has_value()) continue;
    EXPECT(error->code() == baton::kNoPeerCredentialsCode);
    EXPECT(baton_test::Contains(error->what(), "it has none (not a connected unix socket)"));
  }
}

}  // namespace

std::vector<baton_test::TestCase> PeerCredentialsTests() {
  return {
      {"reads its own credentials from a socketpair", ReadsOwnCredentialsFromASocketpair},
      {"reads the credentials of a connecting child", ReadsTheCredentialsOfAConnectingChild},
      {"rejects a non-socket with ENOTSOCK", RejectsANonSocketWithEnotsock},
      {"reports sockets without a peer as having none", ReportsSocketsWithoutAPeerAsHavingNone},
  };
}

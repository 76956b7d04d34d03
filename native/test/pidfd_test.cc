// Tests pidfd_open and the exit poll on forked children: running, exiting, already exited, missing.
#include "../src/pidfd.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "../src/syscall_error.h"
#include "../src/unique_fd.h"
#include "check.h"
#include "suites.h"

namespace {

using baton::SyscallError;
using baton::UniqueFd;

// Larger than PID_MAX_LIMIT (4194304), so no process ever has it.
constexpr pid_t kImpossiblePid = 4194305;

// A child that exits with status 0 when the returned pipe end is closed.
pid_t ForkChildUntilPipeCloses(UniqueFd& release) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw SyscallError("pipe2", errno, "Creating a pipe");
  const pid_t child = fork();
  if (child == 0) {
    close(fds[1]);
    char byte;
    while (read(fds[0], &byte, 1) > 0) {
    }
    _exit(0);
  }
  close(fds[0]);
  release = UniqueFd(fds[1]);
  return child;
}

void SeesARunningChildExit() {
  UniqueFd release;
  const pid_t child = ForkChildUntilPipeCloses(release);
  EXPECT(child > 0);
  if (child <= 0) return;
  const UniqueFd pidfd(baton::OpenPidfd(child));
  EXPECT((fcntl(pidfd.get(), F_GETFD) & FD_CLOEXEC) != 0);
  EXPECT(!baton::WaitForPidfdExit(pidfd.get(), 50));
  release.reset();
  EXPECT(baton::WaitForPidfdExit(pidfd.get(), 5000));
  EXPECT(waitpid(child, nullptr, 0) == child);
}

void SeesAChildThatExitedBeforeTheWatch() {
  UniqueFd release;
  const pid_t child = ForkChildUntilPipeCloses(release);
  EXPECT(child > 0);
  if (child <= 0) return;
  release.reset();
  siginfo_t info{};
  // Wait for the exit without reaping: the child stays a zombie, so its pid is still its own.
  EXPECT(waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT) == 0);
  const UniqueFd pidfd(baton::OpenPidfd(child));
  EXPECT(baton::WaitForPidfdExit(pidfd.get(), 0));
  EXPECT(waitpid(child, nullptr, 0) == child);
}

void RejectsAMissingProcessWithEsrch() {
  const auto error = CATCH_AS(SyscallError, [] { baton::OpenPidfd(kImpossiblePid); });
  if (!error.has_value()) return;
  EXPECT(error->code() == "ESRCH");
  EXPECT(error->syscall() == "pidfd_open");
  EXPECT(error->errnum() == ESRCH);
  EXPECT(std::string(error->what()) == "Watching process 4194305 failed: ESRCH (no such process)");
}

}  // namespace

std::vector<baton_test::TestCase> PidfdTests() {
  return {
      {"sees a running child exit", SeesARunningChildExit},
      {"sees a child that exited before the watch", SeesAChildThatExitedBeforeTheWatch},
      {"rejects a missing process with ESRCH", RejectsAMissingProcessWithEsrch},
  };
}

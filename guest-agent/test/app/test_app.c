/* A small app for the agent's tests: exits, waits, ignores SIGTERM, or checks how it was
 * started. Usage: test-app exit CODE [AFTER_MS] | wait | wait-ignoring-term | check-env ARG */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FDS_CHECKED 256

/* Exit codes of check-env, one per property. */
enum {
    CHECK_OK = 0,
    CHECK_NOT_GROUP_LEADER = 2,
    CHECK_STDIN_NOT_DEV_NULL = 3,
    CHECK_SIGPIPE_NOT_DEFAULT = 4,
    CHECK_STDERR_CLOSED = 5,
    CHECK_ARGV_CHANGED = 6,
    CHECK_FD_LEAKED = 7,
};

static int check_env(const char *expected_arg, const char *arg)
{
    if (getpgrp() != getpid()) {
        return CHECK_NOT_GROUP_LEADER;
    }
    struct stat in_st;
    struct stat null_st;
    int flags = fcntl(STDIN_FILENO, F_GETFL);
    /* The agent's own stdin is /dev/null opened read-write in the tests: read-only means the
     * agent opened it for the app. */
    if (fstat(STDIN_FILENO, &in_st) < 0 || stat("/dev/null", &null_st) < 0 ||
        in_st.st_rdev != null_st.st_rdev || flags < 0 || (flags & O_ACCMODE) != O_RDONLY) {
        return CHECK_STDIN_NOT_DEV_NULL;
    }
    struct sigaction action;
    if (sigaction(SIGPIPE, NULL, &action) < 0 || action.sa_handler != SIG_DFL) {
        return CHECK_SIGPIPE_NOT_DEFAULT;
    }
    if (fcntl(STDERR_FILENO, F_GETFD) < 0) {
        return CHECK_STDERR_CLOSED;
    }
    if (!arg || strcmp(arg, expected_arg) != 0) {
        return CHECK_ARGV_CHANGED;
    }
    for (int fd = STDERR_FILENO + 1; fd < FDS_CHECKED; fd++) {
        if (fcntl(fd, F_GETFD) >= 0) {
            fprintf(stderr, "test-app: fd %d is open\n", fd);
            return CHECK_FD_LEAKED;
        }
    }
    return CHECK_OK;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "exit") == 0 && argc > 2) {
        int after_ms = argc > 3 ? atoi(argv[3]) : 0;
        struct timespec ts = {.tv_sec = after_ms / 1000, .tv_nsec = (after_ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
        }
        return atoi(argv[2]);
    }
    if (strcmp(mode, "wait-ignoring-term") == 0) {
        signal(SIGTERM, SIG_IGN);
    }
    if (strcmp(mode, "wait") == 0 || strcmp(mode, "wait-ignoring-term") == 0) {
        for (;;) {
            pause();
        }
    }
    if (strcmp(mode, "check-env") == 0) {
        return check_env("an argument with spaces", argc > 2 ? argv[2] : NULL);
    }
    fprintf(stderr, "usage: test-app exit CODE [AFTER_MS] | wait | wait-ignoring-term | "
                    "check-env ARG\n");
    return 64;
}

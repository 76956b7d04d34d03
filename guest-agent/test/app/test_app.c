/* A small app for the agent's tests: exits, waits, ignores SIGTERM or exits with a code on it,
 * answers PING with PONG on a port, leaves a child behind, or checks how it was started.
 * Usage: test-app exit CODE [AFTER_MS] | wait | wait-ignoring-term | term-exits CODE |
 *        serve PORT | check-env ARG | check-node NODE | leave-child PROCS_FILE */
#define _GNU_SOURCE /* syscall */
#include <errno.h>
#include <linux/mempolicy.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define FDS_CHECKED 256
#define NODE_MASK_WORDS 16 /* 1024 nodes */
#define SERVE_FAILED 9

/* Exit codes of check-env, one per property. */
enum {
    CHECK_OK = 0,
    CHECK_NOT_GROUP_LEADER = 2,
    CHECK_STDIN_NOT_DEV_NULL = 3,
    CHECK_SIGPIPE_NOT_DEFAULT = 4,
    CHECK_STDERR_CLOSED = 5,
    CHECK_ARGV_CHANGED = 6,
    CHECK_FD_LEAKED = 7,
    CHECK_NOT_BOUND = 8, /* check-node: the memory policy is not MPOL_BIND to the node */
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

static volatile sig_atomic_t term_exit_code;

static void on_term(int signo)
{
    (void)signo;
    _exit(term_exit_code);
}

/* Answers every connection's first line: PONG for PING, ERR otherwise; one at a time. */
static int serve(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 16) < 0) {
        perror("test-app: serve");
        return SERVE_FAILED;
    }
    for (;;) {
        int conn = accept(fd, NULL, NULL);
        char line[64];
        ssize_t n = conn < 0 ? -1 : read(conn, line, sizeof(line) - 1);
        const char *answer = n > 0 && strncmp(line, "PING\n", 5) == 0 ? "PONG\n" : "ERR\n";
        if (n > 0 && write(conn, answer, strlen(answer)) < 0) {
            perror("test-app: write");
        }
        if (conn >= 0) {
            close(conn);
        }
    }
}

static int check_node(int node)
{
    unsigned long mask[NODE_MASK_WORDS] = {0};
    int mode = -1;
    if (syscall(SYS_get_mempolicy, &mode, mask, NODE_MASK_WORDS * 64 + 1, NULL, 0) < 0) {
        perror("test-app: get_mempolicy");
        return CHECK_NOT_BOUND;
    }
    for (int i = 0; i < NODE_MASK_WORDS; i++) {
        unsigned long want = i == node / 64 ? 1UL << (node % 64) : 0;
        if (mask[i] != want) {
            return CHECK_NOT_BOUND;
        }
    }
    return mode == MPOL_BIND ? CHECK_OK : CHECK_NOT_BOUND;
}

/* Forks a child that leaves the process group (setsid, like PostgreSQL's backends) and waits;
 * appends its pid to procs_file (a fixture's cgroup.procs, which the kernel would fill), then
 * waits too. */
static int leave_child(const char *procs_file)
{
    pid_t child = fork();
    if (child == 0) {
        setsid();
        for (;;) {
            pause();
        }
    }
    FILE *procs = child < 0 ? NULL : fopen(procs_file, "a");
    if (!procs || fprintf(procs, "\n%d\n", (int)child) < 0 || fclose(procs) != 0) {
        perror("test-app: leave-child");
        return SERVE_FAILED;
    }
    for (;;) {
        pause();
    }
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core); /* the crash tests send SIGSEGV */
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
    if (strcmp(mode, "term-exits") == 0 && argc > 2) {
        term_exit_code = atoi(argv[2]);
        signal(SIGTERM, on_term);
    }
    if (strcmp(mode, "serve") == 0 && argc > 2) {
        return serve(atoi(argv[2]));
    }
    if (strcmp(mode, "leave-child") == 0 && argc > 2) {
        return leave_child(argv[2]);
    }
    if (strcmp(mode, "check-node") == 0 && argc > 2) {
        return check_node(atoi(argv[2]));
    }
    if (strcmp(mode, "wait") == 0 || strcmp(mode, "wait-ignoring-term") == 0 ||
        strcmp(mode, "term-exits") == 0) {
        for (;;) {
            pause();
        }
    }
    if (strcmp(mode, "check-env") == 0) {
        return check_env("an argument with spaces", argc > 2 ? argv[2] : NULL);
    }
    fprintf(stderr, "usage: test-app exit CODE [AFTER_MS] | wait | wait-ignoring-term | "
                    "term-exits CODE | serve PORT | check-env ARG | check-node NODE | "
                    "leave-child PROCS_FILE\n");
    return 64;
}

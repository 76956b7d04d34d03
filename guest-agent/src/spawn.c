/* Starting an app's process and watching for children that end. */
#define _GNU_SOURCE /* pipe2 */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "linux_abi.h"
#include "numa.h"
#include "textfile.h"

extern char **environ;

static int child_pipe[2] = {-1, -1};

/* The failed step and its errno, as the child reports them through the error pipe. */
struct child_error {
    int step;
    int err;
};

/* Where a child reports a failed step: a page shared with the agent and touched before the
 * fork. A pipe cannot carry the report: once the child joined the app's cgroup, its cpuset may
 * hold only hot-plugged ZONE_MOVABLE memory, where a pipe buffer (a hardwall, non-movable
 * allocation) cannot be had, so the write fails and the failure would look like a start. */
static struct child_error *shared_report;

static void report_and_exit(int error_fd, enum spawn_step step, int err)
{
    (void)error_fd; /* closes when the child exits: the parent's cue to look at the report */
    shared_report->step = step;
    shared_report->err = err;
    _exit(127);
}

/* Writes the calling process's pid in decimal to fd (async-signal-safe). */
static int write_own_pid(int fd)
{
    char digits[16];
    size_t len = 0;
    for (unsigned long pid = (unsigned long)getpid(); pid > 0 || len == 0; pid /= 10) {
        digits[len++] = (char)('0' + pid % 10);
    }
    char text[16];
    for (size_t i = 0; i < len; i++) {
        text[i] = digits[len - 1 - i];
    }
    ssize_t n = write(fd, text, len);
    return n == (ssize_t)len ? 0 : n < 0 ? -errno : -EIO;
}

/* Only async-signal-safe calls between fork and execve; the failure goes back through a
 * close-on-exec pipe, so EOF on it means execve succeeded. */
static void exec_child(const char *path, char *const argv[], const struct spawn_options *opts,
                       int error_fd)
{
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL); /* ignored by the agent; an ignored signal survives execve */
    int rc;
    if (opts->cgroup_procs_fd >= 0 && (rc = write_own_pid(opts->cgroup_procs_fd)) < 0) {
        report_and_exit(error_fd, SPAWN_STEP_CGROUP, -rc);
    }
    if (opts->has_node && (rc = bind_memory_to_node(opts->node)) < 0) {
        report_and_exit(error_fd, SPAWN_STEP_NODE, -rc);
    }
    int null_fd = open(DEV_NULL_PATH, O_RDONLY);
    if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0) {
        report_and_exit(error_fd, SPAWN_STEP_STDIN, errno);
    }
    if (null_fd != STDIN_FILENO) {
        close(null_fd);
    }
    if (opts->output_fd >= 0 &&
        (dup2(opts->output_fd, STDOUT_FILENO) < 0 || dup2(opts->output_fd, STDERR_FILENO) < 0)) {
        report_and_exit(error_fd, SPAWN_STEP_OUTPUT, errno);
    }
    const struct identity *id = &opts->identity;
    if (id->is_set && (setgroups(1, &id->gid) < 0 || setgid(id->gid) < 0 ||
                       setuid(id->uid) < 0)) {
        report_and_exit(error_fd, SPAWN_STEP_IDENTITY, errno);
    }
    if (opts->workdir && chdir(opts->workdir) < 0) {
        report_and_exit(error_fd, SPAWN_STEP_WORKDIR, errno);
    }
    execve(path, argv, opts->envp ? opts->envp : environ);
    report_and_exit(error_fd, SPAWN_STEP_EXEC, errno);
}

int lift_fd(int fd)
{
    if (fd > STDERR_FILENO) {
        return fd;
    }
    int lifted = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
    int err = errno;
    close(fd);
    return lifted >= 0 ? lifted : -err;
}

int spawn_app(const char *root, char *const argv[], const struct spawn_options *opts,
              pid_t *out_pid, enum spawn_step *out_step)
{
    *out_step = SPAWN_STEP_EXEC;
    char path[PATH_MAX];
    int rc = path_join(path, sizeof(path), root, argv[0]);
    if (rc < 0) {
        return rc;
    }
    if (!shared_report) {
        void *page = mmap(NULL, sizeof(*shared_report), PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (page == MAP_FAILED) {
            return -errno;
        }
        shared_report = page;
    }
    *shared_report = (struct child_error){0};
    int error_pipe[2];
    if (pipe2(error_pipe, O_CLOEXEC) < 0) {
        return -errno;
    }
    /* The agent may run with stdin, stdout or stderr closed (an init that gives it none): the
     * pipe could then be fd 0, and the child's dup2 of /dev/null onto it would silence the
     * report, making a failed execve look like a start. */
    error_pipe[1] = lift_fd(error_pipe[1]);
    if (error_pipe[1] < 0) {
        close(error_pipe[0]);
        return error_pipe[1];
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(error_pipe[0]);
        exec_child(path, argv, opts, error_pipe[1]);
    }
    int fork_errno = errno;
    close(error_pipe[1]);
    if (pid < 0) {
        close(error_pipe[0]);
        return -fork_errno;
    }
    setpgid(pid, pid); /* also here, so the group exists before anyone signals it */
    /* EOF: the child either execve'd (close-on-exec) or exited after a failed step. */
    char byte;
    while (read(error_pipe[0], &byte, 1) < 0 && errno == EINTR) {
    }
    close(error_pipe[0]);
    struct child_error report = *shared_report;
    if (report.err != 0) {
        /* A step failed: the child is ours alone, so reap it here rather than report it. */
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
        }
        *out_step = (enum spawn_step)report.step;
        return -report.err;
    }
    *out_pid = pid;
    return 0;
}

static void on_child_signal(int signo)
{
    (void)signo;
    int saved_errno = errno;
    char byte = 0;
    /* A full pipe already says "look": EAGAIN is fine to ignore. */
    ssize_t ignored = write(child_pipe[1], &byte, 1);
    (void)ignored;
    errno = saved_errno;
}

int watch_children(void)
{
    if (child_pipe[0] < 0 && pipe2(child_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
        return -errno;
    }
    struct sigaction action = {.sa_handler = on_child_signal,
                               .sa_flags = SA_RESTART | SA_NOCLDSTOP};
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGCHLD, &action, NULL) < 0) {
        return -errno;
    }
    return child_pipe[0];
}

void drain_child_signals(int fd)
{
    char scratch[64];
    while (read(fd, scratch, sizeof(scratch)) > 0) {
    }
}

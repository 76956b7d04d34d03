/* A command the agent runs for an app besides the app itself (prepare, an exec health check,
 * systemctl): its output's tail kept for messages, its exit collected by the reaper. */
#define _GNU_SOURCE /* pipe2 */
#include "job.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"

int job_start(struct job *job, const char *root, char *const argv[],
              const struct spawn_options *opts, enum spawn_step *step)
{
    *job = (struct job)JOB_INIT;
    int pipe_fds[2];
    *step = SPAWN_STEP_OUTPUT;
    if (pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) < 0) {
        return -errno;
    }
    /* The child's end blocks (a command may not expect EAGAIN); ours does not. Lifted above
     * stderr so the child's dup2 onto stdin cannot close it first (see spawn_app). */
    pipe_fds[1] = lift_fd(pipe_fds[1]);
    if (pipe_fds[1] < 0) {
        close(pipe_fds[0]);
        return pipe_fds[1];
    }
    fcntl(pipe_fds[1], F_SETFL, 0);
    struct spawn_options own = *opts;
    own.output_fd = pipe_fds[1];
    pid_t pid;
    int rc = spawn_app(root, argv, &own, &pid, step);
    close(pipe_fds[1]);
    if (rc < 0) {
        close(pipe_fds[0]);
        return rc;
    }
    job->pid = pid;
    job->out_fd = pipe_fds[0];
    return 0;
}

void job_read_output(struct job *job)
{
    char chunk[512];
    ssize_t n = -1;
    while (job->out_fd >= 0 && (n = read(job->out_fd, chunk, sizeof(chunk))) > 0) {
        size_t len = (size_t)n;
        if (len >= COMMAND_TAIL_BYTES) {
            memcpy(job->tail, chunk + len - COMMAND_TAIL_BYTES, COMMAND_TAIL_BYTES);
            job->tail_len = COMMAND_TAIL_BYTES;
            continue;
        }
        size_t keep = job->tail_len + len > COMMAND_TAIL_BYTES ? COMMAND_TAIL_BYTES - len
                                                               : job->tail_len;
        memmove(job->tail, job->tail + job->tail_len - keep, keep);
        memcpy(job->tail + keep, chunk, len);
        job->tail_len = keep + len;
    }
    if (job->out_fd >= 0 && n == 0) { /* every writer is gone */
        close(job->out_fd);
        job->out_fd = -1;
    }
}

bool job_claim_exit(struct job *job, pid_t pid, int status)
{
    if (job->pid == 0 || job->pid != pid || job->is_done) {
        return false;
    }
    job->is_done = true;
    job->status = status;
    return true;
}

void job_close(struct job *job)
{
    if (job->out_fd >= 0) {
        job_read_output(job);
        close(job->out_fd);
        job->out_fd = -1;
    }
}

void job_abandon(struct job *job)
{
    if (job->pid > 0 && !job->is_done) {
        kill(-job->pid, SIGKILL);
    }
    job_close(job);
    job->pid = 0;
}

const char *job_tail_text(struct job *job)
{
    job->tail[job->tail_len] = '\0';
    for (size_t i = 0; i < job->tail_len; i++) {
        unsigned char c = (unsigned char)job->tail[i];
        job->tail[i] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    char *text = job->tail;
    while (*text == ' ') {
        text++;
    }
    size_t len = strlen(text);
    while (len > 0 && text[len - 1] == ' ') {
        text[--len] = '\0';
    }
    return text;
}

void describe_wait_status(int status, char *out, size_t cap)
{
    if (WIFSIGNALED(status)) {
        snprintf(out, cap, "signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    } else {
        snprintf(out, cap, "exit code %d", WEXITSTATUS(status));
    }
}

int job_run_sync(const char *root, char *const argv[], int timeout_ms, struct job *job)
{
    struct spawn_options opts = SPAWN_OPTIONS_INIT;
    enum spawn_step step;
    int rc = job_start(job, root, argv, &opts, &step);
    if (rc < 0) {
        return rc;
    }
    int64_t deadline_ms = monotonic_ms() + timeout_ms;
    for (;;) {
        job_read_output(job);
        pid_t got = waitpid(job->pid, &job->status, WNOHANG);
        if (got == job->pid) {
            job->is_done = true;
            job_close(job);
            return 0;
        }
        int64_t left_ms = deadline_ms - monotonic_ms();
        if (got < 0 && errno != EINTR) {
            rc = -errno;
            break;
        }
        if (left_ms <= 0) {
            rc = -ETIMEDOUT;
            break;
        }
        struct pollfd pfd = {.fd = job->out_fd, .events = POLLIN};
        poll(&pfd, 1, left_ms < 20 ? (int)left_ms : 20);
    }
    kill(-job->pid, SIGKILL);
    while (waitpid(job->pid, &job->status, 0) < 0 && errno == EINTR) {
    }
    job_close(job);
    job->pid = 0;
    return rc;
}

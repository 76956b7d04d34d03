/* Starting, stopping and capturing the real baton-agent process for tests. */
#define _GNU_SOURCE /* pipe2 */
#include "agent_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define ARGS_MAX 16
#define EXIT_WAIT_MS 3000
#define INHERITED_FDS_CLOSED 1024

long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

void start_agent(struct agent_proc *agent, const char *const args[])
{
    strcpy(agent->log_path, "/tmp/baton-agent-test-XXXXXX.log");
    int log_fd = mkstemps(agent->log_path, 4);
    CHECK(log_fd >= 0);
    const char *argv[ARGS_MAX] = {test_env.agent_path};
    size_t argc = 1;
    for (size_t i = 0; args[i] && argc < ARGS_MAX - 1; i++) {
        argv[argc++] = args[i];
    }
    fflush(stdout);
    agent->pid = fork();
    CHECK(agent->pid >= 0);
    if (agent->pid == 0) {
        dup2(log_fd, STDERR_FILENO);
        int null_fd = open("/dev/null", O_RDWR);
        dup2(null_fd, STDIN_FILENO);
        dup2(null_fd, STDOUT_FILENO);
        /* Only 0-2 reach the agent (whatever the runner inherited), so an app test can tell
         * whether the agent leaks fds to its apps. */
        for (int fd = STDERR_FILENO + 1; fd < INHERITED_FDS_CLOSED; fd++) {
            close(fd);
        }
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(log_fd);
}

int run_agent_capture(const char *const args[], char *out, size_t cap)
{
    int pipe_fds[2];
    CHECK(pipe2(pipe_fds, O_CLOEXEC) == 0);
    const char *argv[ARGS_MAX] = {test_env.agent_path};
    size_t argc = 1;
    for (size_t i = 0; args[i] && argc < ARGS_MAX - 1; i++) {
        argv[argc++] = args[i];
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pipe_fds[1], STDOUT_FILENO);
        dup2(pipe_fds[1], STDERR_FILENO);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(pipe_fds[1]);
    size_t len = 0;
    for (ssize_t n; len < cap - 1 && (n = read(pipe_fds[0], out + len, cap - 1 - len)) != 0;) {
        if (n < 0 && errno != EINTR) {
            break;
        }
        len += n > 0 ? (size_t)n : 0;
    }
    out[len] = '\0';
    close(pipe_fds[0]);
    int status = -1;
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return status;
}

static void print_log(const struct agent_proc *agent)
{
    char text[8192];
    int fd = open(agent->log_path, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;
    if (fd >= 0) {
        close(fd);
    }
    text[n > 0 ? n : 0] = '\0';
    printf("    --- agent stderr (%s) ---\n%s    ---\n", agent->log_path, text);
}

int wait_agent_exit(struct agent_proc *agent, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    int status;
    while (now_ms() < deadline) {
        pid_t done = waitpid(agent->pid, &status, WNOHANG);
        if (done == agent->pid) {
            agent->pid = 0;
            return status;
        }
        sleep_ms(10);
    }
    return -1;
}

int stop_agent(struct agent_proc *agent)
{
    int status = -1;
    if (agent->pid > 0) {
        kill(agent->pid, SIGTERM);
        status = wait_agent_exit(agent, EXIT_WAIT_MS);
        if (status == -1) {
            kill(agent->pid, SIGKILL);
            waitpid(agent->pid, NULL, 0);
            check_fail(__FILE__, __LINE__, "agent did not exit within %d ms of SIGTERM",
                       EXIT_WAIT_MS);
        }
    }
    close_host(agent);
    if (agent->slave_fd >= 0) {
        close(agent->slave_fd);
    }
    if (agent->listen_fd >= 0) {
        close(agent->listen_fd);
    }
    if (check_failures > 0) {
        print_log(agent);
    }
    unlink(agent->log_path);
    if (agent->temp_dir[0] != '\0') {
        remove_tree(agent->temp_dir);
    }
    return status;
}

void start_agent_on_pty(struct agent_proc *agent, const char *heartbeat_ms)
{
    open_host_pty(agent);
    const char *args[] = {"--port", agent->port_path, "--root", test_env.fixtures_root,
                          heartbeat_ms ? "--heartbeat-ms" : NULL, heartbeat_ms, NULL};
    start_agent(agent, args);
}

void check_clean_exit(struct agent_proc *agent)
{
    int status = stop_agent(agent);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}


/* Runs the real baton-agent binary against a pty or unix socket and talks to it as the host. */
#ifndef BATON_TEST_AGENT_HARNESS_H
#define BATON_TEST_AGENT_HARNESS_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "agent.h"

struct agent_proc {
    pid_t pid;
    int host_fd;    /* pty master, or the accepted socket connection; -1 when closed */
    int slave_fd;   /* kept open so the pty master never reports a hangup; -1 otherwise */
    int listen_fd;  /* unix socket tests; -1 otherwise */
    char port_path[PATH_MAX];
    char temp_dir[PATH_MAX]; /* sockets and synthetic roots live here */
    char log_path[PATH_MAX];
    char buf[2 * LINE_MAX_BYTES];
    size_t len;
};

#define AGENT_PROC_INIT {.host_fd = -1, .slave_fd = -1, .listen_fd = -1}
#define LINE_TIMEOUT_MS 3000

/* Creates agent->temp_dir (removed by stop_agent) unless it exists. */
void make_temp_dir(struct agent_proc *agent);
/* Creates a raw pty (host_fd = master) and fills port_path with the slave's path. */
void open_host_pty(struct agent_proc *agent);
/* Listens on temp_dir/agent.sock and fills port_path with it. */
void listen_host_socket(struct agent_proc *agent);
/* Accepts the agent's connection into host_fd. */
bool accept_agent(struct agent_proc *agent, int timeout_ms);
/* Closes the host side (pty master or accepted socket). */
void close_host(struct agent_proc *agent);

/* Starts the agent with the given extra arguments (NULL-terminated); stderr goes to a log. */
void start_agent(struct agent_proc *agent, const char *const args[]);
/* Starts the agent on a fresh pty with the fixture root and an optional --heartbeat-ms. */
void start_agent_on_pty(struct agent_proc *agent, const char *heartbeat_ms);
/* Stops the agent and checks that SIGTERM made it exit with status 0. */
void check_clean_exit(struct agent_proc *agent);
/* Sends SIGTERM, waits, and returns the wait status (-1 on timeout, after SIGKILL). Prints the
 * agent's log if the current test has failed; removes the log and temp_dir. */
int stop_agent(struct agent_proc *agent);
/* Waits up to timeout_ms for the agent to exit by itself; returns the wait status or -1. */
int wait_agent_exit(struct agent_proc *agent, int timeout_ms);

/* Runs the agent to completion with stdout and stderr captured into out; returns the wait
 * status. */
int run_agent_capture(const char *const args[], char *out, size_t cap);

bool send_text(struct agent_proc *agent, const char *text, size_t len);
/* One line without its newline into out; returns its length, or -1 on timeout or hangup. */
int read_line(struct agent_proc *agent, int timeout_ms, char *out, size_t cap);
/* The next message of the given type, skipping heartbeats (unless type is "heartbeat"). */
json_t *expect_message(struct agent_proc *agent, const char *type, int timeout_ms);
/* The next non-heartbeat message as text (static buffer), or "(no answer)". */
const char *next_message_text(struct agent_proc *agent);
/* Sends a request line and returns the next non-heartbeat message as text (static buffer). */
const char *request(struct agent_proc *agent, const char *line);

/* app_root.c: a root for app tests under agent->temp_dir: proc -> the fixture's proc, sys ->
 * the fixture's sys (or, with is_own_sys, an empty sys/block to add disks to), apps/test-app
 * -> the test app, and an empty data/. Writes its path into root (PATH_MAX bytes). */
void make_app_root(struct agent_proc *agent, char *root, bool is_own_sys);
/* Starts the agent on a fresh pty with root, heartbeat 50 ms and the given disk wait, and
 * reads its hello. */
void start_app_agent(struct agent_proc *agent, const char *root, const char *disk_wait_ms);
/* The next reply (skipping heartbeats; any other message fails the test). */
json_t *expect_reply(struct agent_proc *agent, long long id);
/* Sends app.start for /apps/test-app with the given JSON argv tail (e.g. "\"wait\""), reads
 * its reply and the app.ready that follows, and returns the pid, or -1. */
int start_test_app(struct agent_proc *agent, long long id, const char *name, const char *args);
/* Like start_test_app with more JSON fields (",\"memoryBytes\":1" or ""), and without
 * reading app.ready. */
int start_supervised_app(struct agent_proc *agent, long long id, const char *name,
                         const char *args, const char *fields);
/* Reads the next app.ready and checks it. */
void expect_app_ready(struct agent_proc *agent, const char *name, int pid);
/* SIGKILLs an app's process group that a test left behind (the agent does not stop apps
 * when it exits). */
void kill_test_app(int pid);
/* Checks an app.exited message's fields; code or signal -1 means null. */
void check_app_exited(const json_t *msg, const char *name, int pid, int code, int signo,
                      const char *severity);

long long now_ms(void);
void sleep_ms(int ms);

#endif

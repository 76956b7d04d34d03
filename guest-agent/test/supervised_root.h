/* Roots for the supervision tests: their own /sys (cgroup, nodes, power) and /proc/cmdline. */
#ifndef BATON_TEST_SUPERVISED_ROOT_H
#define BATON_TEST_SUPERVISED_ROOT_H

#include <stdbool.h>

#include "agent_harness.h"

/* node0's MemTotal in the supervised root unless a test writes another. */
#define FIX_NODE0_KB 999936LL

/* A root like make_app_root's with its own sys (fs/cgroup, empty block, devices/system/node
 * with node0, the fixture's memory blocks, an empty power/state) and proc (cmdline with or
 * without baton.faults=1; the fixture's meminfo, uptime and sys). */
void make_supervised_root(struct agent_proc *agent, char *root, bool is_faults_enabled);
/* Writes sys/devices/system/node/node<node>/meminfo with MemTotal total_kb. */
void write_node_meminfo(const char *root, unsigned node, long long total_kb);
/* mkdir -p root + rel. */
void make_root_dirs(const char *root, const char *rel);
void write_root_file(const char *root, const char *rel, const char *text);
/* The contents of root + rel (static buffer), or "(missing)". */
const char *read_root_file(const char *root, const char *rel);

/* A loopback TCP port nobody listens on (just now). */
int free_tcp_port(void);
/* A loopback listening socket that is never accepted from: connects complete, nothing is
 * answered. Returns the fd; the port in *out_port. */
int listen_without_answering(int *out_port);

/* How many fds the process has open, or -1. */
int count_open_fds(pid_t pid);

/* Sends one request line. */
void send_line(struct agent_proc *agent, const char *line);
/* The next non-heartbeat message within timeout_ms (static buffer), or "(nothing)". */
const char *next_message_within(struct agent_proc *agent, int timeout_ms);

#endif

/* Agent-wide constants (wire limits, timings) and the run configuration. */
#ifndef BATON_AGENT_H
#define BATON_AGENT_H

#include <stdbool.h>

#define AGENT_VERSION "0.1.0"

/* docs/agent-protocol.md: no line is longer than 4096 bytes including the newline. */
#define LINE_MAX_BYTES 4096
#define NONCE_MAX_CHARS 64
#define REQUEST_ID_MAX 9007199254740991LL /* 2^53 - 1 */

#define HEARTBEAT_DEFAULT_MS 1000
#define HEARTBEAT_MIN_MS 50
#define HEARTBEAT_MAX_MS 60000

/* Port discovery/open: fast retries for the first window, then slow ones. */
#define PORT_FAST_RETRY_MS 100
#define PORT_FAST_RETRY_WINDOW_MS 30000
#define PORT_SLOW_RETRY_MS 1000

/* How often to look again while the host side of the port is not connected. */
#define HOST_WAIT_RETRY_MS 100
/* Longest a single outgoing line may wait for the host to drain the port. */
#define WRITE_TIMEOUT_MS 1000
/* Upper bound on reads when discarding input left over from a closed connection. */
#define DRAIN_MAX_READS 64

/* NUMA nodes reported; 32 keeps the largest message well under LINE_MAX_BYTES. */
#define NUMA_NODES_MAX 32

/* Applications (docs/agent-protocol.md, "Applications (v1)"). */
#define APPS_MAX 8
#define APP_NAME_MAX_CHARS 32
#define APP_ARGV_MAX 32
#define APP_ARG_MAX_BYTES 256
/* Operator apps (docs/agent-protocol.md, "Operator apps (v3)"). A realistic app.start (argv,
 * a few env entries, a prepare command, a health check) stays far below LINE_MAX_BYTES. */
#define APP_ENV_MAX 32
#define APP_ENV_ENTRY_MAX_BYTES 512 /* one KEY=VALUE */
#define ACCOUNT_NAME_MAX_CHARS 32   /* user and group names */
#define UNIT_NAME_MAX_CHARS 255     /* systemd's limit for a unit name */
#define APP_PATH_MAX_BYTES 256      /* workdir, mountPoint, health.path */
#define HEALTH_TEXT_MAX_BYTES 64    /* health.send and health.expect */
/* prepare runs at most this long (initdb under TCG takes tens of seconds); then SIGKILL. */
#define APP_PREPARE_TIMEOUT_MS 300000
/* Output kept from prepare and health commands for messages (their last bytes). */
#define COMMAND_TAIL_BYTES 400
/* A unit app's start (show, daemon-reload, start, show) gives up after this, then SIGKILLs the
 * systemctl of the step it is in. One deadline for all steps: on a guest still booting under TCG
 * on a busy host, systemd answers a `show` or a daemon-reload in tens of seconds, and systemctl
 * start waits for the unit to be up (postgres under TCG: tens of seconds). The host waits this
 * plus its own margin (src/pair/app-ready.ts, UNIT_START_EXTRA_MS). */
#define UNIT_START_TIMEOUT_MS 180000
/* How often a unit app's state is read when it has no health check. */
#define UNIT_POLL_DEFAULT_MS 1000
#define DISK_SERIAL_MAX_CHARS 20
#define APP_STOP_DEFAULT_TIMEOUT_MS 3000
/* After SIGKILL, how long app.stop waits for the exit before answering `internal`. */
#define APP_KILL_WAIT_MS 2000
/* After an app's main process ended: how long the processes left in its cgroup may take to
 * die before its exit is reported anyway (the disk may then stay mounted), and how often
 * they are killed and counted meanwhile. */
#define APP_LEFTOVER_WAIT_MS 10000
#define APP_LEFTOVER_POLL_MS 20
/* How long app.start looks for a hot-added disk, and how often. */
#define DISK_WAIT_DEFAULT_MS 5000
#define DISK_POLL_MS 50
/* Between writing the fault.panic reply and crashing the kernel. */
#define FAULT_PANIC_DELAY_MS 100

/* Supervision (docs/agent-protocol.md, "Supervision (v2)"). */
#define APP_MEMORY_BYTES_MAX REQUEST_ID_MAX
#define NUMA_NODE_ID_MAX 1023 /* the kernel's MAX_NUMNODES is at most 1024 */
/* mem.request asks for the shortfall rounded up to this (the virtio-mem block size). */
#define MEM_REQUEST_ALIGN_BYTES (2ULL * 1024 * 1024)
/* After a granted mem.answer, how long and how often the node is checked again. */
#define MEM_GRANT_WAIT_MS 5000
#define MEM_GRANT_POLL_MS 50
#define MEM_REFUSAL_MAX_BYTES 256
#define HEALTH_PORT_MAX 65535
#define HEALTH_INTERVAL_MIN_MS 10
#define HEALTH_INTERVAL_MAX_MS 600000
#define HEALTH_TIMEOUT_MIN_MS 10
#define HEALTH_TIMEOUT_MAX_MS 600000
#define HEALTH_FAILURES_DEFAULT 3
#define HEALTH_FAILURES_MAX 100
/* Between writing the fault.hang reply and freezing the guest. */
#define FAULT_HANG_DELAY_MS 100

struct agent_config {
    const char *root;      /* prefix for /proc, /sys and /dev; "" in a real guest */
    const char *port_path; /* NULL: discover the virtio-serial port by name */
    long heartbeat_option_ms; /* --heartbeat-ms, 0 when not given */
    int heartbeat_ms;         /* in effect: option, else kernel command line, else default */
    bool is_once;          /* exit when the host closes the channel */
    int disk_wait_ms;      /* --disk-wait-ms, else DISK_WAIT_DEFAULT_MS */
    bool is_faults_enabled; /* baton.faults=1 on the kernel command line */
};

#endif

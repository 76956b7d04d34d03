/* Finding and opening the agent's channel: the virtio-serial port, or --port PATH. */
#ifndef BATON_PORT_H
#define BATON_PORT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent.h"

struct port {
    int fd;         /* -1 when closed; non-blocking */
    bool is_socket; /* a unix socket (tests): reconnected, not kept, after the host closes */
    char path[PATH_MAX];
};

enum port_link {
    PORT_LINK_UP,   /* the host side is connected */
    PORT_LINK_DOWN, /* nobody on the host side yet (POLLHUP) */
    PORT_LINK_ERROR,
};

/* Writes root/dev/<vportNpM> for the port named AGENT_PORT_NAME; returns 0 or -errno
 * (-ENOENT while no such port exists). */
int find_agent_port(const char *root, char *out, size_t cap);

/* Opens a character device, tty (set to raw) or unix socket; returns 0 or -errno. */
int open_port(const char *path, struct port *port);

/* Retry state while the port cannot be opened. */
struct port_retry {
    bool is_retrying; /* attempts have failed since the port was last opened */
    bool is_slow;
    int last_rc;
    int64_t slow_after_ms;
};

/* One attempt to open the port (cfg->port_path, or discovered). Returns 0 once it is open,
 * else how long to wait before the next attempt: PORT_FAST_RETRY_MS for the first
 * PORT_FAST_RETRY_WINDOW_MS of failures, then PORT_SLOW_RETRY_MS. Logs when the reason
 * changes. */
int open_port_step(const struct agent_config *cfg, struct port *port, struct port_retry *retry);

/* Whether the host side is connected, without blocking. */
enum port_link probe_port(const struct port *port);

void close_port(struct port *port);

#endif

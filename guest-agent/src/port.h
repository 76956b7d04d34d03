/* Finding and opening the agent's channel: the virtio-serial port, or --port PATH. */
#ifndef BATON_PORT_H
#define BATON_PORT_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

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

/* Opens the port (cfg->port_path, or discovered), retrying every PORT_FAST_RETRY_MS for
 * PORT_FAST_RETRY_WINDOW_MS and then every PORT_SLOW_RETRY_MS. Returns 0, or -1 once *stop
 * is set. */
int open_port_retrying(const struct agent_config *cfg, struct port *port,
                       const volatile sig_atomic_t *stop);

/* Whether the host side is connected, without blocking. */
enum port_link probe_port(const struct port *port);

void close_port(struct port *port);

#endif

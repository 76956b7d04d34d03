/* One app's health check: connect to 127.0.0.1:port, send PING, expect PONG; non-blocking,
 * advanced by the main loop. */
#ifndef BATON_HEALTH_H
#define BATON_HEALTH_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apps.h"

/* The app side of the check (docs/agent-protocol.md, "Supervision (v2)"). */
#define HEALTH_HOST "127.0.0.1"
#define HEALTH_PING "PING\n"
#define HEALTH_PONG "PONG"

enum health_result {
    HEALTH_PENDING, /* not due, or in progress */
    HEALTH_PASSED,
    HEALTH_FAILED,
};

/* Starts the next check at at_ms (the check must be idle). */
void health_schedule(struct health_check *check, int64_t at_ms);

/* Moves the check along without blocking: starts it when due, finishes the connect, sends
 * PING, reads the answer. On HEALTH_FAILED, why says what went wrong. A finished check is
 * idle again with the next one scheduled intervalMs after it started. */
enum health_result health_step(struct health_check *check, const struct health_spec *spec,
                               int64_t now_ms, char *why, size_t cap);

/* Closes a check in progress; nothing more is scheduled. */
void health_cancel(struct health_check *check);

/* When health_step has something to do next: the start of the next check, or the deadline
 * of the one in progress. */
int64_t health_due_ms(const struct health_check *check);

/* The socket and events of a check in progress; false when idle. */
bool health_pollfd(const struct health_check *check, struct pollfd *out);

#endif

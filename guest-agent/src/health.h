/* One app's network health check on 127.0.0.1:port (tcp: connect; line: send, expect; http:
 * GET, 2xx); non-blocking, advanced by the main loop. */
#ifndef BATON_HEALTH_H
#define BATON_HEALTH_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apps.h"

/* The app side of the check (docs/agent-protocol.md, "Supervision (v2)"). */
#define HEALTH_HOST "127.0.0.1"
#define HEALTH_DEFAULT_SEND "PING"
#define HEALTH_DEFAULT_EXPECT "PONG"
#define HEALTH_DEFAULT_PATH "/"
/* http: the request line's version and the status line's prefix. */
#define HTTP_VERSION "HTTP/1.0"
#define HTTP_STATUS_PREFIX "HTTP/1."

/* health_answer.c: judging an answer line (trimmed, printable). */
/* line: the answer starts with expect. */
bool is_expected_answer(const char *line, const char *expect);
/* http: the status code of "HTTP/1.x NNN ...", or -1 when line is no status line. */
int parse_http_status(const char *line);
/* Trims the answer (up to its newline or the end of input) in place and returns it, with
 * anything unprintable shown as '?'. */
const char *answer_line(char *answer, size_t len);

enum health_result {
    HEALTH_PENDING, /* not due, or in progress */
    HEALTH_PASSED,
    HEALTH_FAILED,
};

/* Starts the next check at at_ms (the check must be idle). */
void health_schedule(struct health_check *check, int64_t at_ms);

/* Moves a network check along without blocking: starts it when due, finishes the connect,
 * sends the probe, reads the answer. On HEALTH_FAILED, why says what went wrong. A finished check is
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

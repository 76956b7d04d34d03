/* Parsing one request line from the host, dispatching it, and building the reply line. */
#ifndef BATON_PROTOCOL_H
#define BATON_PROTOCOL_H

#include <stddef.h>

#include "agent.h"

/* Error codes from docs/agent-protocol.md. */
#define ERR_BAD_JSON "bad-json"
#define ERR_LINE_TOO_LONG "line-too-long"
#define ERR_BAD_REQUEST "bad-request"
#define ERR_UNKNOWN_TYPE "unknown-type"
#define ERR_INTERNAL "internal"

/* Handles one line (without its newline; len < LINE_MAX_BYTES) and writes the answer, a
 * `reply` or an `error` line, into out (cap >= OUT_LINE_BYTES). Returns the answer's length;
 * 0 means no answer (an empty line). */
size_t protocol_handle_line(const struct agent_config *cfg, const char *line, size_t len,
                            char *out, size_t cap);

/* The `error` line sent for an input line longer than LINE_MAX_BYTES. */
size_t protocol_line_too_long(char *out, size_t cap);

#endif

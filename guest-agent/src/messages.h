/* Building the agent's outgoing JSON messages and serializing them into line buffers. */
#ifndef BATON_MESSAGES_H
#define BATON_MESSAGES_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "agent.h"

/* Size of every outgoing line buffer: a full line (newline included) plus a NUL. */
#define OUT_LINE_BYTES (LINE_MAX_BYTES + 1)

/* Writes msg as one compact line ending in '\n' into out (cap >= OUT_LINE_BYTES) and frees
 * msg. If msg is NULL (building it failed) or too long for a line, writes an `internal` error
 * instead (a reply when msg had an id). Returns the line length. */
size_t serialize_line(json_t *msg, char *out, size_t cap);

json_t *build_error(const char *code, const char *message);
json_t *build_reply_error(json_int_t id, const char *code, const char *message);
/* Steals result. */
json_t *build_reply_ok(json_int_t id, json_t *result);

/* Unreadable facts are logged and reported as 0 / "" so the hello always goes out. */
json_t *build_hello(const struct agent_config *cfg);
json_t *build_heartbeat(const struct agent_config *cfg, uint64_t seq);
/* The mem.status result; NULL with a message in err when a source cannot be read. */
json_t *build_mem_status(const struct agent_config *cfg, char *err, size_t err_cap);

#endif

/* Parsing one request line from the host, dispatching it, and building the reply line. */
#ifndef BATON_PROTOCOL_H
#define BATON_PROTOCOL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "agent.h"

/* Error codes from docs/agent-protocol.md. */
#define ERR_BAD_JSON "bad-json"
#define ERR_LINE_TOO_LONG "line-too-long"
#define ERR_BAD_REQUEST "bad-request"
#define ERR_UNKNOWN_TYPE "unknown-type"
#define ERR_INTERNAL "internal"
#define ERR_ALREADY_RUNNING "already-running"
#define ERR_NOT_RUNNING "not-running"
#define ERR_DISK_NOT_FOUND "disk-not-found"
#define ERR_MOUNT_FAILED "mount-failed"
#define ERR_SPAWN_FAILED "spawn-failed"
#define ERR_TOO_MANY_APPS "too-many-apps"
#define ERR_FAULTS_DISABLED "faults-disabled"
#define ERR_MEMORY_REFUSED "memory-refused"
/* Operator apps (v3): start failures that come from the app's configuration. */
#define ERR_ACCOUNT_NOT_FOUND "account-not-found"
#define ERR_PREPARE_FAILED "prepare-failed"
#define ERR_UNIT_NOT_FOUND "unit-not-found"
#define ERR_UNIT_FAILED "unit-failed"

struct apps;

/* What a request may use and what it asks of the caller beyond its answer. */
struct protocol_ctx {
    const struct agent_config *cfg;
    struct apps *apps;
    bool is_reply_deferred; /* the handler answers later (app.start waiting, app.stop) */
    bool should_panic;      /* fault.panic: crash the kernel once the reply is written */
    bool should_hang;       /* fault.hang: freeze the guest once the reply is written */
};

/* Handles one line (without its newline; len < LINE_MAX_BYTES) and writes the answer, a
 * `reply` or an `error` line, into out (cap >= OUT_LINE_BYTES). Returns the answer's length;
 * 0 means no answer now (an empty line, or a reply the apps table sends later). Sets the
 * ctx flags; the caller clears them. */
size_t protocol_handle_line(struct protocol_ctx *ctx, const char *line, size_t len, char *out,
                            size_t cap);

/* The `error` line sent for an input line longer than LINE_MAX_BYTES. */
size_t protocol_line_too_long(char *out, size_t cap);

/* Request handlers outside protocol.c; each returns the reply, or NULL with
 * ctx->is_reply_deferred set. */
json_t *handle_app_start(struct protocol_ctx *ctx, json_int_t id, const json_t *request);
json_t *handle_app_stop(struct protocol_ctx *ctx, json_int_t id, const json_t *request);
json_t *handle_app_list(struct protocol_ctx *ctx, json_int_t id, const json_t *request);
json_t *handle_mem_answer(struct protocol_ctx *ctx, json_int_t id, const json_t *request);
json_t *handle_fault_panic(struct protocol_ctx *ctx, json_int_t id, const json_t *request);
json_t *handle_fault_hang(struct protocol_ctx *ctx, json_int_t id, const json_t *request);
json_t *handle_fault_app_crash(struct protocol_ctx *ctx, json_int_t id, const json_t *request);
json_t *handle_fault_app_hang(struct protocol_ctx *ctx, json_int_t id, const json_t *request);
json_t *handle_fault_app_fail(struct protocol_ctx *ctx, json_int_t id, const json_t *request);

#endif

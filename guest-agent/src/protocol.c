/* Parsing one request line from the host, dispatching it, and building the reply line. */
#include "protocol.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "messages.h"

#define NONCE_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
#define ERROR_MESSAGE_BYTES 256

typedef json_t *(*request_handler)(struct protocol_ctx *ctx, json_int_t id,
                                   const json_t *request);

static json_t *handle_sync(struct protocol_ctx *ctx, json_int_t id, const json_t *request)
{
    (void)ctx;
    const json_t *nonce = json_object_get(request, "nonce");
    const char *text = json_string_value(nonce);
    size_t len = text ? json_string_length(nonce) : 0;
    /* strspn stops at an embedded NUL, so the length check also rejects "\u0000". */
    if (!text || len == 0 || len > NONCE_MAX_CHARS || strspn(text, NONCE_CHARS) != len) {
        return build_reply_error(id, ERR_BAD_REQUEST,
                                 "nonce must be a string of 1-64 characters [A-Za-z0-9_-]");
    }
    return build_reply_ok(id, json_pack("{s:s}", "nonce", text));
}

static json_t *handle_mem_status(struct protocol_ctx *ctx, json_int_t id, const json_t *request)
{
    (void)request;
    char err[ERROR_MESSAGE_BYTES];
    json_t *result = build_mem_status(ctx->cfg, err, sizeof(err));
    return result ? build_reply_ok(id, result) : build_reply_error(id, ERR_INTERNAL, err);
}

static const struct {
    const char *type;
    request_handler handle;
} REQUESTS[] = {
    {"sync", handle_sync},
    {"mem.status", handle_mem_status},
    {"app.start", handle_app_start},
    {"app.stop", handle_app_stop},
    {"app.list", handle_app_list},
    {"mem.answer", handle_mem_answer},
    {"fault.panic", handle_fault_panic},
    {"fault.hang", handle_fault_hang},
    {"fault.app-crash", handle_fault_app_crash},
    {"fault.app-hang", handle_fault_app_hang},
    {"fault.app-fail", handle_fault_app_fail},
};

/* Error messages quote input (a type, jansson's "near '...'"); truncation may split a UTF-8
 * sequence, which jansson would refuse to encode, so quoted text is reduced to printable ASCII. */
static void make_printable_ascii(char *text)
{
    for (; *text != '\0'; text++) {
        if ((unsigned char)*text < 0x20 || (unsigned char)*text > 0x7e) {
            *text = '?';
        }
    }
}

/* A usable id is a JSON integer in 0..2^53-1. */
static bool read_id(const json_t *request, json_int_t *out_id)
{
    const json_t *id = json_object_get(request, "id");
    if (!json_is_integer(id)) {
        return false;
    }
    json_int_t value = json_integer_value(id);
    if (value < 0 || value > REQUEST_ID_MAX) {
        return false;
    }
    *out_id = value;
    return true;
}

/* An error about the request: a reply when it had a usable id, an `error` otherwise. */
static json_t *build_failure(bool has_id, json_int_t id, const char *code, const char *message)
{
    return has_id ? build_reply_error(id, code, message) : build_error(code, message);
}

static json_t *dispatch(struct protocol_ctx *ctx, const json_t *request)
{
    json_int_t id = 0;
    bool has_id = read_id(request, &id);
    const char *type = json_string_value(json_object_get(request, "type"));
    if (!type) {
        return build_failure(has_id, id, ERR_BAD_REQUEST, "type must be a string");
    }
    for (size_t i = 0; i < sizeof(REQUESTS) / sizeof(REQUESTS[0]); i++) {
        if (strcmp(type, REQUESTS[i].type) != 0) {
            continue;
        }
        if (!has_id) {
            return build_error(ERR_BAD_REQUEST, "id must be an integer in 0..2^53-1");
        }
        return REQUESTS[i].handle(ctx, id, request);
    }
    char message[ERROR_MESSAGE_BYTES];
    snprintf(message, sizeof(message), "unknown type: %.64s", type);
    make_printable_ascii(message);
    return build_failure(has_id, id, ERR_UNKNOWN_TYPE, message);
}

size_t protocol_handle_line(struct protocol_ctx *ctx, const char *line, size_t len, char *out,
                            size_t cap)
{
    if (len == 0) {
        return 0;
    }
    json_error_t parse_error;
    json_t *request = json_loadb(line, len, JSON_REJECT_DUPLICATES, &parse_error);
    json_t *answer;
    if (!request) {
        char message[ERROR_MESSAGE_BYTES];
        snprintf(message, sizeof(message), "invalid JSON at column %d: %s", parse_error.column,
                 parse_error.text);
        make_printable_ascii(message);
        answer = build_error(ERR_BAD_JSON, message);
    } else if (!json_is_object(request)) {
        answer = build_error(ERR_BAD_JSON, "message must be a JSON object");
    } else {
        answer = dispatch(ctx, request);
    }
    json_decref(request);
    if (!answer && ctx->is_reply_deferred) {
        return 0;
    }
    return serialize_line(answer, out, cap);
}

size_t protocol_line_too_long(char *out, size_t cap)
{
    return serialize_line(build_error(ERR_LINE_TOO_LONG, "line longer than 4096 bytes discarded"),
                          out, cap);
}

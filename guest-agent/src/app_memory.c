/* The memory phases of app.start: the node's MemTotal against memoryBytes, mem.request to the
 * host, and its mem.answer. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "apps.h"
#include "clock.h"
#include "linux_abi.h"
#include "log.h"
#include "messages.h"
#include "numa.h"
#include "protocol.h"

#define MEMORY_MESSAGE_BYTES 512
#define REASON_RULE "reason must be a string of 1-256 bytes (required when granted is false)"

static json_t *fail_node(struct apps *apps, struct app *app, json_int_t id, int rc)
{
    char message[MEMORY_MESSAGE_BYTES];
    unsigned node = app->spec.node;
    if (rc == -ENOENT) {
        snprintf(message, sizeof(message), "node %u does not exist (no %s/%s%u/%s)", node,
                 SYSFS_NODE_DIR, SYSFS_NODE_PREFIX, node, SYSFS_NODE_MEMINFO_FILE);
        return fail_start(apps, app, id, ERR_BAD_REQUEST, message);
    }
    snprintf(message, sizeof(message), "reading %s/%s%u/%s failed: %s", SYSFS_NODE_DIR,
             SYSFS_NODE_PREFIX, node, SYSFS_NODE_MEMINFO_FILE, strerror(-rc));
    return fail_start(apps, app, id, ERR_INTERNAL, message);
}

/* The node is short of memoryBytes: ask the host (once), or keep checking after a grant. */
static json_t *wait_for_memory(struct apps *apps, struct app *app, json_int_t id,
                               int64_t now_ms, uint64_t total, bool *is_waiting)
{
    const struct app_spec *spec = &app->spec;
    if (app->phase == START_MEMORY) {
        uint64_t shortfall = spec->memory_bytes - total;
        app->mem_request_bytes = (shortfall + MEM_REQUEST_ALIGN_BYTES - 1) /
                                 MEM_REQUEST_ALIGN_BYTES * MEM_REQUEST_ALIGN_BYTES;
        log_msg("app %s: node %u has %" PRIu64 " bytes, less than memoryBytes %" PRIu64
                "; asking the host for %" PRIu64,
                spec->name, spec->node, total, spec->memory_bytes, app->mem_request_bytes);
        app->phase = START_MEMORY_ASKED;
        app->is_mem_request_pending = true;
        app->next_scan_ms = INT64_MAX; /* until mem.answer */
        *is_waiting = true;
        return NULL;
    }
    if (now_ms < app->deadline_ms) { /* START_MEMORY_GRANTED */
        app->next_scan_ms = now_ms + MEM_GRANT_POLL_MS;
        *is_waiting = true;
        return NULL;
    }
    char message[MEMORY_MESSAGE_BYTES];
    snprintf(message, sizeof(message),
             "node %u has %" PRIu64 " bytes, less than memoryBytes %" PRIu64
             ", %d ms after the host granted %" PRIu64 " bytes",
             spec->node, total, spec->memory_bytes, MEM_GRANT_WAIT_MS, app->mem_request_bytes);
    return fail_start(apps, app, id, ERR_MEMORY_REFUSED, message);
}

json_t *step_memory(struct apps *apps, struct app *app, json_int_t id, int64_t now_ms,
                    bool *is_waiting)
{
    if (app->phase == START_MEMORY_REFUSED) {
        return fail_start(apps, app, id, ERR_MEMORY_REFUSED, app->refusal);
    }
    if (!app->spec.has_node) {
        return NULL; /* the check is against the app's node */
    }
    uint64_t total;
    int rc = read_node_mem_total(apps->root, app->spec.node, &total);
    if (rc == -ENOENT && app->spec.has_memory) {
        /* A memory-less node is not online until memory is plugged into it: it holds nothing yet. */
        total = 0;
    } else if (rc < 0) {
        return fail_node(apps, app, id, rc);
    }
    if (app->spec.has_memory && total < app->spec.memory_bytes) {
        return wait_for_memory(apps, app, id, now_ms, total, is_waiting);
    }
    if (app->phase == START_MEMORY_GRANTED) {
        log_msg("app %s: node %u has %" PRIu64 " bytes now", app->spec.name, app->spec.node,
                total);
    }
    return NULL;
}

json_t *handle_mem_answer(struct protocol_ctx *ctx, json_int_t id, const json_t *request)
{
    char name[APP_NAME_MAX_CHARS + 1];
    char message[MEMORY_MESSAGE_BYTES];
    if (!parse_app_name(request, "app", name, message, sizeof(message))) {
        return build_reply_error(id, ERR_BAD_REQUEST, message);
    }
    const json_t *granted = json_object_get(request, "granted");
    if (!json_is_boolean(granted)) {
        return build_reply_error(id, ERR_BAD_REQUEST, "granted must be a boolean");
    }
    const json_t *reason = json_object_get(request, "reason");
    const char *text = json_string_value(reason);
    size_t len = text ? json_string_length(reason) : 0;
    if ((reason || json_is_false(granted)) &&
        (!text || len == 0 || len > MEM_REFUSAL_MAX_BYTES || strlen(text) != len)) {
        return build_reply_error(id, ERR_BAD_REQUEST, REASON_RULE);
    }
    struct app *app = find_app(ctx->apps, name);
    if (!app || app->state != APP_STARTING || app->phase != START_MEMORY_ASKED) {
        snprintf(message, sizeof(message), "app %s has no pending mem.request", name);
        return build_reply_error(id, ERR_BAD_REQUEST, message);
    }
    int64_t now_ms = monotonic_ms();
    app->is_mem_request_pending = false;
    app->next_scan_ms = now_ms;
    if (json_is_true(granted)) {
        log_msg("app %s: the host granted %" PRIu64 " bytes", name, app->mem_request_bytes);
        app->phase = START_MEMORY_GRANTED;
        app->deadline_ms = now_ms + MEM_GRANT_WAIT_MS;
    } else {
        log_msg("app %s: the host refused memory: %s", name, text);
        app->phase = START_MEMORY_REFUSED;
        memcpy(app->refusal, text, len + 1);
    }
    return build_reply_ok(id, json_object());
}

void apps_abandon_memory_waits(struct apps *apps)
{
    for (size_t i = 0; i < APPS_MAX; i++) {
        struct app *app = &apps->slots[i];
        if (app->state == APP_STARTING && app->phase == START_MEMORY_ASKED) {
            log_msg("app.start %s dropped: the host went away before answering its mem.request",
                    app->spec.name);
            app->state = APP_FREE;
            app->has_reply = false;
            app->is_mem_request_pending = false;
        }
    }
}

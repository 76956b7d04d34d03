/* Answering app.start, app.stop and app.list against the fixed table of apps. */
#include "apps.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "disk.h"
#include "health.h"
#include "log.h"
#include "messages.h"
#include "protocol.h"

#define APP_MESSAGE_BYTES 256

void apps_init(struct apps *apps, const char *root, int disk_wait_ms)
{
    memset(apps, 0, sizeof(*apps));
    apps->root = root;
    apps->disk_wait_ms = disk_wait_ms;
}

struct app *find_app(struct apps *apps, const char *name)
{
    for (size_t i = 0; i < APPS_MAX; i++) {
        struct app *app = &apps->slots[i];
        if (app->state != APP_FREE && strcmp(app->spec.name, name) == 0) {
            return app;
        }
    }
    return NULL;
}

/* The slot for a new app: its own exited one, a free one, or an exited one whose app.exited
 * the host already has. */
static struct app *claim_slot(struct apps *apps, struct app *same_name)
{
    if (same_name) {
        return same_name;
    }
    for (size_t i = 0; i < APPS_MAX; i++) {
        if (apps->slots[i].state == APP_FREE) {
            return &apps->slots[i];
        }
    }
    for (size_t i = 0; i < APPS_MAX; i++) {
        if (apps->slots[i].state == APP_EXITED && !apps->slots[i].is_exit_pending) {
            return &apps->slots[i];
        }
    }
    return NULL;
}

json_t *handle_app_start(struct protocol_ctx *ctx, json_int_t id, const json_t *request)
{
    struct apps *apps = ctx->apps;
    struct app_spec spec;
    char message[APP_MESSAGE_BYTES];
    if (!parse_app_start(request, &spec, message, sizeof(message))) {
        return build_reply_error(id, ERR_BAD_REQUEST, message);
    }
    struct app *app = find_app(apps, spec.name);
    if (app && app->state != APP_EXITED) {
        if (app->state == APP_STARTING) {
            snprintf(message, sizeof(message), "app %s is already starting", spec.name);
        } else if (app->state == APP_DRAINING) {
            snprintf(message, sizeof(message),
                     "app %s (pid %d) exited; the processes it left are still being killed",
                     spec.name, (int)app->pid);
        } else {
            snprintf(message, sizeof(message), "app %s is already running (pid %d)", spec.name,
                     (int)app->pid);
        }
        return build_reply_error(id, ERR_ALREADY_RUNNING, message);
    }
    app = claim_slot(apps, app);
    if (!app) {
        snprintf(message, sizeof(message), "app %s: all %d app slots are in use", spec.name,
                 APPS_MAX);
        return build_reply_error(id, ERR_TOO_MANY_APPS, message);
    }
    if (app->state == APP_EXITED && app->is_exit_pending) {
        log_msg("app.exited for %s (pid %d) was never delivered; reusing its slot",
                app->spec.name, (int)app->pid);
    }
    int64_t now_ms = monotonic_ms();
    *app = (struct app){.state = APP_STARTING, .spec = spec, .phase = START_MEMORY};
    json_t *reply = step_start(apps, app, id, now_ms);
    if (!reply) {
        app->has_reply = true;
        app->reply_id = id;
        ctx->is_reply_deferred = true;
    }
    return reply;
}

void signal_app(const struct app *app, int signo)
{
    /* The whole group; the leader alone if it left the group (setsid) and emptied it. */
    if (kill(-app->pid, signo) < 0) {
        kill(app->pid, signo);
    }
}

json_t *check_app_running(json_int_t id, const char *name, const struct app *app)
{
    if (app && app->state == APP_RUNNING) {
        return NULL;
    }
    char message[APP_MESSAGE_BYTES];
    const char *why = !app || app->state == APP_EXITED ? "is not running"
                      : app->state == APP_STARTING  ? "is still starting"
                      : app->state == APP_DRAINING  ? "has exited"
                                                    : "is already stopping";
    snprintf(message, sizeof(message), "app %s %s", name, why);
    return build_reply_error(id, ERR_NOT_RUNNING, message);
}

json_t *handle_app_stop(struct protocol_ctx *ctx, json_int_t id, const json_t *request)
{
    char name[APP_NAME_MAX_CHARS + 1];
    int64_t timeout_ms;
    char message[APP_MESSAGE_BYTES];
    if (!parse_app_stop(request, name, &timeout_ms, message, sizeof(message))) {
        return build_reply_error(id, ERR_BAD_REQUEST, message);
    }
    struct app *app = find_app(ctx->apps, name);
    json_t *refusal = check_app_running(id, name, app);
    if (refusal) {
        return refusal;
    }
    health_cancel(&app->health);
    log_msg("stopping app %s (pid %d): SIGTERM, SIGKILL after %lld ms", name, (int)app->pid,
            (long long)timeout_ms);
    signal_app(app, SIGTERM);
    app->state = APP_STOPPING;
    app->is_killed = false;
    app->deadline_ms = monotonic_ms() + timeout_ms;
    app->has_reply = true;
    app->reply_id = id;
    ctx->is_reply_deferred = true;
    return NULL;
}

json_t *handle_app_list(struct protocol_ctx *ctx, json_int_t id, const json_t *request)
{
    (void)request;
    json_t *list = json_array();
    for (size_t i = 0; list && i < APPS_MAX; i++) {
        const struct app *app = &ctx->apps->slots[i];
        if (app->state == APP_FREE || app->state == APP_STARTING) {
            continue; /* no process yet */
        }
        json_t *entry = json_pack("{s:s, s:i, s:b}", "name", app->spec.name, "pid",
                                  (int)app->pid, "running", app->state != APP_EXITED);
        if (entry && app->spec.unit[0] != '\0') {
            /* What systemd and the kernel applied at its start (unit_props.c). */
            json_t *max = app->unit_memory_max_bytes == UINT64_MAX
                              ? json_null()
                              : json_integer((json_int_t)app->unit_memory_max_bytes);
            json_object_set_new(entry, "unit", json_pack("{s:s, s:o, s:s, s:s}", "name",
                                                         app->spec.unit, "memoryMaxBytes", max,
                                                         "numaPolicy", app->unit_numa_policy,
                                                         "numaMask", app->unit_numa_mask));
        }
        if (!entry || json_array_append_new(list, entry) < 0) {
            json_decref(list);
            list = NULL;
        }
    }
    return build_reply_ok(id, json_pack("{s:o}", "apps", list));
}

void unmount_app_disk(struct apps *apps, struct app *app)
{
    if (app->is_mounted) {
        unmount_disk(apps->root, app->spec.mount_point);
        app->is_mounted = false;
    }
}

/* Moving apps along: waiting for disks, mounting, spawning, escalating stops. */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "apps.h"
#include "cgroup.h"
#include "disk.h"
#include "health.h"
#include "linux_abi.h"
#include "log.h"
#include "messages.h"
#include "protocol.h"

#define STEP_MESSAGE_BYTES 512

json_t *fail_start(struct apps *apps, struct app *app, json_int_t id, const char *code,
                   const char *message)
{
    log_msg("app.start %s failed: %s", app->spec.name, message);
    if (app->prepare_state == PREPARE_RUNNING) {
        job_abandon(&app->prepare_job);
        app->prepare_state = PREPARE_DONE;
    }
    if (app->is_unit_job_running) {
        job_abandon(&app->unit_job);
        app->is_unit_job_running = false;
    }
    unmount_app_disk(apps, app);
    if (app->has_cgroup) {
        cgroup_remove(apps->root, app->spec.name);
        app->has_cgroup = false;
    }
    app->state = APP_FREE;
    app->has_reply = false;
    return build_reply_error(id, code, message);
}

/* Finds and mounts the disk; NULL when mounted, else NULL with *is_waiting, or the error. */
static json_t *attach_disk(struct apps *apps, struct app *app, json_int_t id, int64_t now_ms,
                           bool *is_waiting)
{
    char name[DISK_NAME_MAX_BYTES];
    char message[STEP_MESSAGE_BYTES];
    int rc = find_disk_by_serial(apps->root, app->spec.serial, name, sizeof(name));
    if (rc < 0 && now_ms < app->deadline_ms) {
        app->next_scan_ms = now_ms + DISK_POLL_MS;
        *is_waiting = true;
        return NULL;
    }
    if (rc < 0) {
        snprintf(message, sizeof(message), "no disk with serial %s in %s after %d ms: %s",
                 app->spec.serial, SYSFS_BLOCK_DIR, apps->disk_wait_ms, strerror(-rc));
        return fail_start(apps, app, id, ERR_DISK_NOT_FOUND, message);
    }
    if (mount_disk(apps->root, name, app->spec.mount_point, message, sizeof(message)) < 0) {
        return fail_start(apps, app, id, ERR_MOUNT_FAILED, message);
    }
    app->is_mounted = true;
    return NULL;
}

json_t *step_start(struct apps *apps, struct app *app, json_int_t id, int64_t now_ms)
{
    if (app->phase != START_DISK) {
        bool is_waiting = false;
        json_t *failure = step_memory(apps, app, id, now_ms, &is_waiting);
        if (failure || is_waiting) {
            return failure;
        }
        app->phase = START_DISK;
        app->deadline_ms = now_ms + apps->disk_wait_ms;
        app->next_scan_ms = now_ms;
        failure = resolve_app_identities(apps, app, id);
        if (failure) {
            return failure;
        }
    }
    if (app->spec.has_disk && !app->is_mounted) {
        bool is_waiting = false;
        json_t *failure = attach_disk(apps, app, id, now_ms, &is_waiting);
        if (failure || is_waiting) {
            return failure;
        }
    }
    if (app->spec.has_disk) {
        bool is_waiting = false;
        json_t *failure = step_prepare(apps, app, id, now_ms, &is_waiting);
        if (failure || is_waiting) {
            return failure;
        }
    }
    if (app->spec.unit[0] != '\0') {
        return step_unit_start(apps, app, id, now_ms);
    }
    return spawn_started(apps, app, id, now_ms);
}

json_t *step_stop(struct app *app, int64_t now_ms)
{
    if (!app->is_killed) {
        log_msg("app %s (pid %d) still running after SIGTERM; sending SIGKILL", app->spec.name,
                (int)app->pid);
        signal_app(app, SIGKILL);
        app->is_killed = true;
        app->deadline_ms = now_ms + APP_KILL_WAIT_MS;
        return NULL;
    }
    /* Stuck in the kernel (e.g. I/O on a vanished disk): answer now; app.exited still comes
     * when it is reaped. */
    char message[STEP_MESSAGE_BYTES];
    snprintf(message, sizeof(message), "app %s (pid %d) did not exit within %d ms of SIGKILL",
             app->spec.name, (int)app->pid, APP_KILL_WAIT_MS);
    log_msg("app.stop: %s", message);
    app->deadline_ms = INT64_MAX;
    app->has_reply = false;
    return build_reply_error(app->reply_id, ERR_INTERNAL, message);
}

void apps_advance(struct apps *apps, int64_t now_ms, emit_fn emit, void *ctx)
{
    apps_check_health(apps, now_ms);
    apps_follow_units(apps, now_ms, emit, ctx);
    for (size_t i = 0; i < APPS_MAX; i++) {
        struct app *app = &apps->slots[i];
        bool has_reply = app->has_reply;
        json_t *reply = NULL;
        if (app->state == APP_STARTING && now_ms >= app->next_scan_ms) {
            reply = step_start(apps, app, app->reply_id, now_ms);
        } else if (app->state == APP_STOPPING && now_ms >= app->deadline_ms) {
            reply = step_stop(app, now_ms);
        } else if (app->state == APP_DRAINING) {
            step_drain(apps, app, now_ms, emit, ctx);
            continue; /* it emits its own app.exited and reply */
        }
        if (reply && has_reply) {
            emit(ctx, reply);
        } else {
            json_decref(reply); /* a reply owed to a connection that is gone */
        }
    }
}

int apps_next_step_ms(const struct apps *apps, int64_t now_ms)
{
    int64_t next_ms = INT64_MAX;
    for (size_t i = 0; i < APPS_MAX; i++) {
        const struct app *app = &apps->slots[i];
        if ((app->state == APP_STARTING || app->state == APP_DRAINING) &&
            app->next_scan_ms < next_ms) {
            next_ms = app->next_scan_ms;
        } else if (app->state == APP_STOPPING && app->deadline_ms < next_ms) {
            next_ms = app->deadline_ms;
        } else if (app->state == APP_RUNNING && app->spec.has_health && !app->is_hang_killed &&
                   health_due_ms(&app->health) < next_ms) {
            next_ms = health_due_ms(&app->health);
        }
        if ((app->state == APP_RUNNING || app->state == APP_STOPPING) &&
            app->spec.unit[0] != '\0' && app->next_unit_poll_ms < next_ms) {
            next_ms = app->next_unit_poll_ms;
        }
    }
    if (next_ms == INT64_MAX) {
        return -1;
    }
    int64_t wait_ms = next_ms - now_ms;
    return wait_ms <= 0 ? 0 : wait_ms > INT_MAX ? INT_MAX : (int)wait_ms;
}

void apps_forget_replies(struct apps *apps)
{
    for (size_t i = 0; i < APPS_MAX; i++) {
        apps->slots[i].has_reply = false;
    }
}

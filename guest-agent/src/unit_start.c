/* Starting a unit app through systemd: the unit must be loaded, gets a runtime drop-in
 * (MemoryMax, NUMAPolicy=bind, NUMAMask, Restart=no; daemon-reload unless systemd has it
 * already), is started, and its MainPID is the
 * app's pid once systemd shows the drop-in applied. Each systemctl runs as a job, so the agent
 * keeps beating meanwhile. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps.h"
#include "disk.h"
#include "health.h"
#include "linux_abi.h"
#include "log.h"
#include "messages.h"
#include "protocol.h"
#include "textfile.h"

#define UNIT_MESSAGE_BYTES 768

/* Starts `systemctl <verb...> <unit>` (daemon-reload takes no unit) as the app's unit job. */
int run_systemctl(struct apps *apps, struct app *app, const char *const *verb, size_t count,
                  int64_t now_ms, int timeout_ms)
{
    char *argv[8];
    size_t argc = 0;
    argv[argc++] = (char *)SYSTEMCTL_PATH;
    for (size_t i = 0; i < count && argc < 6; i++) {
        argv[argc++] = (char *)verb[i];
    }
    if (strcmp(verb[0], "daemon-reload") != 0) {
        argv[argc++] = app->spec.unit;
    }
    argv[argc] = NULL;
    struct spawn_options opts = SPAWN_OPTIONS_INIT;
    enum spawn_step step;
    int rc = job_start(&app->unit_job, apps->root, argv, &opts, &step);
    if (rc == 0) {
        app->is_unit_job_running = true;
        app->unit_deadline_ms = now_ms + timeout_ms;
        app->unit_step_started_ms = now_ms;
    }
    return rc;
}

static json_t *unit_failed(struct apps *apps, struct app *app, json_int_t id, const char *code,
                           const char *what)
{
    char message[UNIT_MESSAGE_BYTES];
    snprintf(message, sizeof(message), "unit %s: %s", app->spec.unit, what);
    return fail_start(apps, app, id, code, message);
}

/* The step's command finished with status 0 and output tail; moves to the next step. */
static json_t *advance(struct apps *apps, struct app *app, json_int_t id, int64_t now_ms,
                       const char *output)
{
    if (app->unit_step == UNIT_CHECK) {
        char load_state[64] = "";
        char need_reload[16] = "";
        show_value(output, "LoadState", load_state, sizeof(load_state));
        show_value(output, "NeedDaemonReload", need_reload, sizeof(need_reload));
        if (strcmp(load_state, "loaded") != 0) {
            char what[256];
            snprintf(what, sizeof(what), "not loaded in the guest (LoadState=%s)", load_state);
            return unit_failed(apps, app, id, ERR_UNIT_NOT_FOUND, what);
        }
        int rc = write_unit_drop_in(apps, app);
        if (rc < 0) {
            char what[256];
            snprintf(what, sizeof(what), "writing its drop-in under %s failed: %s",
                     SYSTEMD_RUNTIME_UNIT_DIR, strerror(-rc));
            return unit_failed(apps, app, id, ERR_UNIT_FAILED, what);
        }
        /* daemon-reload takes 30-40 s on a busy TCG guest: skipped when systemd already has
         * this very drop-in (a restart in place); the PID step checks what it applied. */
        bool is_loaded = rc == DROP_IN_UNCHANGED && strcmp(need_reload, "no") == 0;
        app->unit_step = is_loaded ? UNIT_START : UNIT_RELOAD;
        return NULL;
    }
    if (app->unit_step == UNIT_RELOAD || app->unit_step == UNIT_START) {
        app->unit_step = app->unit_step == UNIT_RELOAD ? UNIT_START : UNIT_PID;
        return NULL;
    }
    char why[UNIT_MESSAGE_BYTES / 2];
    if (check_unit_props(apps, app, output, why, sizeof(why)) < 0) {
        return unit_failed(apps, app, id, ERR_UNIT_FAILED, why);
    }
    app->state = APP_RUNNING;
    app->has_reply = false;
    app->unit_step = UNIT_RUNNING;
    int interval_ms = app->spec.has_health ? app->spec.health.interval_ms : UNIT_POLL_DEFAULT_MS;
    app->next_unit_poll_ms = now_ms + interval_ms;
    if (app->spec.has_health) {
        health_schedule(&app->health, now_ms + interval_ms);
    } else {
        app->is_ready = true;
        app->is_ready_pending = true;
    }
    log_msg("started app %s: unit %s (MainPID %d, NUMAPolicy=%s NUMAMask=%s, memory.max %llu)",
            app->spec.name, app->spec.unit, (int)app->pid, app->unit_numa_policy,
            app->unit_numa_mask, (unsigned long long)app->unit_memory_max_bytes);
    return build_reply_ok(id, json_pack("{s:s, s:i}", "name", app->spec.name, "pid",
                                        (int)app->pid));
}

json_t *step_unit_start(struct apps *apps, struct app *app, json_int_t id, int64_t now_ms)
{
    static const char *const verbs[][4] = {
        [UNIT_CHECK] = {"show", "-p", "LoadState,NeedDaemonReload"},
        [UNIT_RELOAD] = {"daemon-reload"},
        [UNIT_START] = {"start"},
        [UNIT_PID] = {"show", "-p", "MainPID,Restart,MemoryMax,NUMAPolicy,NUMAMask,ControlGroup"},
    };
    static const size_t counts[] = {[UNIT_CHECK] = 3, [UNIT_RELOAD] = 1, [UNIT_START] = 1,
                                    [UNIT_PID] = 3};
    app->next_scan_ms = now_ms + DISK_POLL_MS;
    if (!app->is_unit_job_running) {
        if (app->unit_step == UNIT_CHECK) {
            app->unit_start_deadline_ms = now_ms + UNIT_START_TIMEOUT_MS;
        }
        int64_t left_ms = app->unit_start_deadline_ms - now_ms;
        int rc = run_systemctl(apps, app, verbs[app->unit_step], counts[app->unit_step], now_ms,
                               left_ms > 0 ? (int)left_ms : 0);
        if (rc < 0) {
            char what[256];
            snprintf(what, sizeof(what), "running %s failed: %s", SYSTEMCTL_PATH, strerror(-rc));
            return unit_failed(apps, app, id, ERR_UNIT_FAILED, what);
        }
        return NULL;
    }
    struct job *job = &app->unit_job;
    job_read_output(job);
    if (!job->is_done && now_ms < app->unit_deadline_ms) {
        return NULL;
    }
    app->is_unit_job_running = false;
    if (!job->is_done) {
        job_abandon(job);
        char what[160];
        snprintf(what, sizeof(what), "systemctl %s did not finish within %d ms of the start",
                 verbs[app->unit_step][0], UNIT_START_TIMEOUT_MS);
        return unit_failed(apps, app, id, ERR_UNIT_FAILED, what);
    }
    job_close(job);
    const char *output = job_tail_text(job);
    log_msg("app %s: systemctl %s %s took %lld ms", app->spec.name, verbs[app->unit_step][0],
            app->spec.unit, (long long)(now_ms - app->unit_step_started_ms));
    if (job->status != 0) {
        char how[64];
        char what[UNIT_MESSAGE_BYTES / 2];
        describe_wait_status(job->status, how, sizeof(how));
        snprintf(what, sizeof(what), "systemctl %s failed with %s: %s",
                 verbs[app->unit_step][0], how, output);
        return unit_failed(apps, app, id, ERR_UNIT_FAILED, what);
    }
    return advance(apps, app, id, now_ms, output);
}

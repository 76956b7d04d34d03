/* Running apps' health checks: app.ready on the first pass, SIGKILL to the group after
 * failuresToUnhealthy failures in a row once it passed (app.exited then says severity hang);
 * exec checks run here as jobs, network checks in health.c. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "apps.h"
#include "health.h"
#include "log.h"
#include "request_fields.h"

#define HEALTH_WHY_BYTES 640
#define PRE_READY_LOG_EVERY 10 /* failures before the first pass: log the 1st, 10th, 20th... */

static bool is_checked(const struct app *app)
{
    return app->state == APP_RUNNING && app->spec.has_health && !app->is_hang_killed;
}

static void on_failure(struct app *app, const char *why)
{
    struct health_check *check = &app->health;
    int limit = app->spec.health.failures_to_unhealthy;
    check->failures++;
    if (!app->is_ready) {
        /* Still starting (initdb, crash recovery, an AOF loading): the host's healthTimeoutMs
         * bounds the wait for the first pass, not failuresToUnhealthy. */
        if (check->failures == 1 || check->failures % PRE_READY_LOG_EVERY == 0) {
            log_msg("app %s (pid %d): health check failed before its first pass (%d so far, "
                    "not counted as a hang): %s",
                    app->spec.name, (int)app->pid, check->failures, why);
        }
        return;
    }
    log_msg("app %s (pid %d): health check failed (%d of %d): %s", app->spec.name,
            (int)app->pid, check->failures, limit, why);
    if (check->failures < limit) {
        return;
    }
    log_msg("app %s (pid %d) is hung: sending SIGKILL to its process group", app->spec.name,
            (int)app->pid);
    health_cancel(check);
    signal_app(app, SIGKILL);
    app->is_hang_killed = true;
}

/* Starts the command when due; judges it when it exited or its timeout passed. */
static enum health_result step_exec(struct apps *apps, struct app *app, int64_t now_ms,
                                    char *why, size_t cap)
{
    struct health_check *check = &app->health;
    const struct health_spec *spec = &app->spec.health;
    if (check->phase == HEALTH_IDLE) {
        if (now_ms < check->next_ms) {
            return HEALTH_PENDING;
        }
        char *argv[APP_ARGV_MAX + 1];
        list_to_argv(&spec->argv, argv);
        struct spawn_options opts = SPAWN_OPTIONS_INIT;
        opts.identity = app->identity;
        enum spawn_step step;
        check->started_ms = now_ms;
        int rc = job_start(&check->job, apps->root, argv, &opts, &step);
        if (rc < 0) {
            snprintf(why, cap, "starting %s failed: %s", argv[0], strerror(-rc));
            health_schedule(check, now_ms + spec->interval_ms);
            return HEALTH_FAILED;
        }
        check->phase = HEALTH_RUNNING;
        check->deadline_ms = now_ms + spec->timeout_ms;
        return HEALTH_PENDING;
    }
    struct job *job = &check->job;
    job_read_output(job);
    if (!job->is_done && now_ms < check->deadline_ms) {
        return HEALTH_PENDING;
    }
    enum health_result result = HEALTH_FAILED;
    if (!job->is_done) {
        job_abandon(job);
        snprintf(why, cap, "%s did not exit within %d ms", spec->argv.text, spec->timeout_ms);
    } else if (job->status == 0) {
        job_close(job);
        result = HEALTH_PASSED;
    } else {
        job_close(job);
        char how[64];
        describe_wait_status(job->status, how, sizeof(how));
        snprintf(why, cap, "%s ended with %s: %s", spec->argv.text, how, job_tail_text(job));
    }
    int64_t next_ms = check->started_ms + spec->interval_ms;
    health_schedule(check, next_ms > now_ms ? next_ms : now_ms);
    return result;
}

void apps_check_health(struct apps *apps, int64_t now_ms)
{
    for (size_t i = 0; i < APPS_MAX; i++) {
        struct app *app = &apps->slots[i];
        if (!is_checked(app)) {
            continue;
        }
        char why[HEALTH_WHY_BYTES];
        enum health_result result =
            app->spec.health.kind == HEALTH_KIND_EXEC
                ? step_exec(apps, app, now_ms, why, sizeof(why))
                : health_step(&app->health, &app->spec.health, now_ms, why, sizeof(why));
        if (result == HEALTH_FAILED) {
            on_failure(app, why);
        } else if (result == HEALTH_PASSED) {
            app->health.failures = 0;
            if (!app->is_ready) {
                log_msg("app %s (pid %d) passed its first health check", app->spec.name,
                        (int)app->pid);
                app->is_ready = true;
                app->is_ready_pending = true;
            }
        }
    }
}

size_t apps_health_pollfds(const struct apps *apps, struct pollfd *fds)
{
    size_t count = 0;
    for (size_t i = 0; i < APPS_MAX; i++) {
        const struct app *app = &apps->slots[i];
        if (is_checked(app) && health_pollfd(&app->health, &fds[count])) {
            count++;
        }
    }
    return count;
}

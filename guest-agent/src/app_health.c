/* Running apps' health checks: app.ready on the first pass, SIGKILL to the group after
 * failuresToUnhealthy failures in a row (app.exited then says severity hang). */
#include <signal.h>

#include "apps.h"
#include "health.h"
#include "log.h"

#define HEALTH_WHY_BYTES 160

static bool is_checked(const struct app *app)
{
    return app->state == APP_RUNNING && app->spec.has_health && !app->is_hang_killed;
}

static void on_failure(struct app *app, const char *why)
{
    struct health_check *check = &app->health;
    int limit = app->spec.health.failures_to_unhealthy;
    check->failures++;
    log_msg("app %s (pid %d): health check on port %d failed (%d of %d): %s", app->spec.name,
            (int)app->pid, app->spec.health.port, check->failures, limit, why);
    if (check->failures < limit) {
        return;
    }
    log_msg("app %s (pid %d) is hung: sending SIGKILL to its process group", app->spec.name,
            (int)app->pid);
    health_cancel(check);
    signal_app(app, SIGKILL);
    app->is_hang_killed = true;
}

void apps_check_health(struct apps *apps, int64_t now_ms)
{
    for (size_t i = 0; i < APPS_MAX; i++) {
        struct app *app = &apps->slots[i];
        if (!is_checked(app)) {
            continue;
        }
        char why[HEALTH_WHY_BYTES];
        enum health_result result = health_step(&app->health, &app->spec.health, now_ms, why,
                                                sizeof(why));
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

/* systemd's KillMode=control-group for argv apps: once an app's main process ended, every
 * process left in its cgroup is SIGKILLed until the group is empty, and only then are its disk
 * unmounted, its group removed and app.exited sent, so a restart in place finds them free. */
#include <string.h>

#include "apps.h"
#include "cgroup.h"
#include "log.h"

/* How many processes are still in the app's group after one more SIGKILL to all of them. */
static int kill_leftovers(struct apps *apps, struct app *app)
{
    if (!app->has_cgroup) {
        return 0;
    }
    int rc = cgroup_kill_leftovers(apps->root, app->spec.name, app->pid);
    if (rc < 0) {
        log_msg("app %s: killing the processes left in its cgroup failed: %s", app->spec.name,
                strerror(-rc));
        return 0;
    }
    return rc;
}

bool start_drain(struct apps *apps, struct app *app, int64_t now_ms)
{
    int left = kill_leftovers(apps, app);
    if (left == 0) {
        return false;
    }
    log_msg("app %s: %d processes left in its cgroup; killed, waiting up to %d ms",
            app->spec.name, left, APP_LEFTOVER_WAIT_MS);
    app->state = APP_DRAINING;
    app->deadline_ms = now_ms + APP_LEFTOVER_WAIT_MS;
    app->next_scan_ms = now_ms + APP_LEFTOVER_POLL_MS;
    return true;
}

void step_drain(struct apps *apps, struct app *app, int64_t now_ms, emit_fn emit, void *ctx)
{
    if (now_ms < app->next_scan_ms) {
        return;
    }
    int left = kill_leftovers(apps, app);
    if (left > 0 && now_ms < app->deadline_ms) {
        app->next_scan_ms = now_ms + APP_LEFTOVER_POLL_MS;
        return;
    }
    if (left > 0) {
        log_msg("app %s: %d processes still in its cgroup %d ms after its exit; reporting the "
                "exit anyway", app->spec.name, left, APP_LEFTOVER_WAIT_MS);
    } else {
        log_msg("app %s: the processes left in its cgroup are gone", app->spec.name);
    }
    finish_app_exit(apps, app, emit, ctx);
}

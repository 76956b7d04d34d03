/* Reaping apps whose process ended, unmounting their disks and reporting app.exited. */
#include <string.h>
#include <sys/wait.h>

#include "apps.h"
#include "log.h"
#include "messages.h"

static void log_exit(const struct app *app)
{
    int status = app->wait_status;
    if (WIFSIGNALED(status)) {
        log_msg("app %s (pid %d) killed by signal %d (%s)", app->spec.name, (int)app->pid,
                WTERMSIG(status), strsignal(WTERMSIG(status)));
    } else {
        log_msg("app %s (pid %d) exited with code %d", app->spec.name, (int)app->pid,
                WEXITSTATUS(status));
    }
}

static void report_exit(struct app *app, emit_fn emit, void *ctx)
{
    if (emit(ctx, build_app_exited(app))) {
        app->is_exit_pending = false;
    }
}

void apps_reap(struct apps *apps, emit_fn emit, void *ctx)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        struct app *app = NULL;
        for (size_t i = 0; i < APPS_MAX && !app; i++) {
            enum app_state state = apps->slots[i].state;
            if ((state == APP_RUNNING || state == APP_STOPPING) && apps->slots[i].pid == pid) {
                app = &apps->slots[i];
            }
        }
        if (!app) {
            log_msg("reaped pid %d, which is not an app", (int)pid);
            continue;
        }
        app->wait_status = status;
        app->state = APP_EXITED;
        app->is_exit_pending = true;
        log_exit(app);
        unmount_app_disk(apps, app);
        report_exit(app, emit, ctx);
        if (app->has_reply) { /* checked after report_exit: a lost link forgets the reply */
            app->has_reply = false;
            emit(ctx, build_reply_ok(app->reply_id, build_app_exit_result(app)));
        }
    }
}

void apps_flush_exits(struct apps *apps, emit_fn emit, void *ctx)
{
    for (size_t i = 0; i < APPS_MAX; i++) {
        if (apps->slots[i].state == APP_EXITED && apps->slots[i].is_exit_pending) {
            report_exit(&apps->slots[i], emit, ctx);
        }
    }
}

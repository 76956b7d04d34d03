/* Reaping apps whose process ended (judging the severity, then, once what they left is killed,
 * unmounting their disks and removing their cgroups) and delivering what the host is owed:
 * mem.request, app.ready, app.exited. */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "apps.h"
#include "cgroup.h"
#include "clock.h"
#include "health.h"
#include "log.h"
#include "messages.h"

static void log_exit(const struct app *app)
{
    int status = app->wait_status;
    if (WIFSIGNALED(status)) {
        log_msg("app %s (pid %d) killed by signal %d (%s): %s", app->spec.name, (int)app->pid,
                WTERMSIG(status), strsignal(WTERMSIG(status)), app->severity);
    } else {
        log_msg("app %s (pid %d) exited with code %d: %s", app->spec.name, (int)app->pid,
                WEXITSTATUS(status), app->severity);
    }
}

static bool is_crash_signal(int signo)
{
    return signo == SIGSEGV || signo == SIGBUS || signo == SIGILL || signo == SIGFPE ||
           signo == SIGABRT || signo == SIGSYS;
}

/* Why the process ended; app->state is still RUNNING or STOPPING. */
const char *exit_severity_of(const struct apps *apps, const struct app *app, int status)
{
    if (app->is_hang_killed) {
        return SEVERITY_HANG;
    }
    if (app->state == APP_STOPPING) {
        return SEVERITY_STOPPED;
    }
    uint64_t oom_kills;
    if (app->has_cgroup && cgroup_read_oom_kills(apps->root, app->spec.name, &oom_kills) == 0 &&
        oom_kills > app->oom_kills_at_start) {
        return SEVERITY_OOM;
    }
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status) == 0 ? SEVERITY_CLEAN : SEVERITY_FAILED;
    }
    return is_crash_signal(WTERMSIG(status)) ? SEVERITY_CRASHED : SEVERITY_KILLED;
}

/* Writes the slot's undelivered messages in order; stops at the first that does not go out
 * (a lost link may free the slot meanwhile). */
static void report_notices(struct app *app, emit_fn emit, void *ctx)
{
    if (app->state == APP_STARTING) {
        if (app->is_mem_request_pending && emit(ctx, build_mem_request(app))) {
            app->is_mem_request_pending = false;
        }
        return;
    }
    if (app->state == APP_FREE) {
        return;
    }
    if (app->is_ready_pending) {
        if (!emit(ctx, build_app_ready(app))) {
            return;
        }
        app->is_ready_pending = false;
    }
    if (app->state == APP_EXITED && app->is_exit_pending && emit(ctx, build_app_exited(app))) {
        app->is_exit_pending = false;
    }
}

static struct app *find_pid(struct apps *apps, pid_t pid)
{
    for (size_t i = 0; i < APPS_MAX; i++) {
        enum app_state state = apps->slots[i].state;
        if ((state == APP_RUNNING || state == APP_STOPPING) && apps->slots[i].pid == pid &&
            apps->slots[i].spec.unit[0] == '\0') {
            return &apps->slots[i];
        }
    }
    return NULL;
}

void apps_reap(struct apps *apps, emit_fn emit, void *ctx)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        /* A unit app's MainPID is systemd's child, never ours: find_pid skips unit apps. */
        if (apps_claim_job_exit(apps, pid, status)) {
            continue;
        }
        struct app *app = find_pid(apps, pid);
        if (!app) {
            log_msg("reaped pid %d, which is not an app", (int)pid);
            continue;
        }
        record_app_exit(apps, app, status, exit_severity_of(apps, app, status), emit, ctx);
    }
}

void finish_app_exit(struct apps *apps, struct app *app, emit_fn emit, void *ctx)
{
    app->state = APP_EXITED;
    app->is_exit_pending = true;
    unmount_app_disk(apps, app);
    if (app->has_cgroup) {
        cgroup_remove(apps->root, app->spec.name);
        app->has_cgroup = false;
    }
    report_notices(app, emit, ctx);
    if (app->has_reply) { /* checked after report_notices: a lost link forgets the reply */
        app->has_reply = false;
        emit(ctx, build_reply_ok(app->reply_id, build_app_exit_result(app)));
    }
}

void record_app_exit(struct apps *apps, struct app *app, int status, const char *severity,
                     emit_fn emit, void *ctx)
{
    app->severity = severity;
    app->wait_status = status;
    health_cancel(&app->health);
    log_exit(app);
    if (app->spec.unit[0] == '\0') {
        /* The group outlives its leader while a member lives: pgid app->pid is still ours. */
        kill(-app->pid, SIGKILL);
    }
    if (!start_drain(apps, app, monotonic_ms())) {
        finish_app_exit(apps, app, emit, ctx);
    }
}

bool apps_claim_job_exit(struct apps *apps, pid_t pid, int status)
{
    for (size_t i = 0; i < APPS_MAX; i++) {
        struct app *app = &apps->slots[i];
        if (app->state != APP_FREE && (job_claim_exit(&app->prepare_job, pid, status) ||
                                       job_claim_exit(&app->health.job, pid, status) ||
                                       job_claim_exit(&app->unit_job, pid, status))) {
            return true;
        }
    }
    return false;
}

void apps_flush_notices(struct apps *apps, emit_fn emit, void *ctx)
{
    for (size_t i = 0; i < APPS_MAX; i++) {
        report_notices(&apps->slots[i], emit, ctx);
    }
}

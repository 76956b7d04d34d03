/* Following running unit apps through systemd: `systemctl show` every poll interval; a unit
 * that went inactive or failed has exited, with today's severities (Result=oom-kill: oom;
 * exit 0: clean; an exit code: failed; SEGV and kin: crashed; other signals: killed). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "apps.h"
#include "log.h"

/* systemctl show's ExecMainCode: the si_code of the main process's end. */
#define EXEC_MAIN_CODE_EXITED 1 /* CLD_EXITED */
#define UNIT_SHOW_PROPERTIES "ActiveState,Result,ExecMainCode,ExecMainStatus,MainPID"

struct unit_state {
    char active[32];
    char result[32];
    int main_code;
    int main_status;
    long main_pid;
};

/* Parses "Key=value" lines (the tail of systemctl show, newlines shown as spaces). */
static void parse_show(const char *text, struct unit_state *out)
{
    *out = (struct unit_state){0};
    char copy[COMMAND_TAIL_BYTES + 1];
    snprintf(copy, sizeof(copy), "%s", text);
    for (char *save = NULL, *field = strtok_r(copy, " ", &save); field;
         field = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(field, '=');
        if (!eq) {
            continue;
        }
        *eq = '\0';
        const char *value = eq + 1;
        if (strcmp(field, "ActiveState") == 0) {
            snprintf(out->active, sizeof(out->active), "%s", value);
        } else if (strcmp(field, "Result") == 0) {
            snprintf(out->result, sizeof(out->result), "%s", value);
        } else if (strcmp(field, "ExecMainCode") == 0) {
            out->main_code = atoi(value);
        } else if (strcmp(field, "ExecMainStatus") == 0) {
            out->main_status = atoi(value);
        } else if (strcmp(field, "MainPID") == 0) {
            out->main_pid = strtol(value, NULL, 10);
        }
    }
}

static bool is_crash_signal(int signo)
{
    return signo == SIGSEGV || signo == SIGBUS || signo == SIGILL || signo == SIGFPE ||
           signo == SIGABRT || signo == SIGSYS;
}

/* The unit ended: its main process's end as a wait status and a severity. */
static void record_unit_exit(struct apps *apps, struct app *app, const struct unit_state *state,
                             emit_fn emit, void *ctx)
{
    bool is_exit = state->main_code == EXEC_MAIN_CODE_EXITED;
    int code = state->main_status & 0xff;
    int status = is_exit ? code << 8 : (code & 0x7f);
    const char *severity = app->is_hang_killed          ? SEVERITY_HANG
                           : app->state == APP_STOPPING ? SEVERITY_STOPPED
                           : strcmp(state->result, "oom-kill") == 0 ? SEVERITY_OOM
                           : is_exit ? (code == 0 ? SEVERITY_CLEAN : SEVERITY_FAILED)
                           : is_crash_signal(code) ? SEVERITY_CRASHED
                                                   : SEVERITY_KILLED;
    log_msg("app %s: unit %s is %s (Result=%s)", app->spec.name, app->spec.unit, state->active,
            state->result);
    record_app_exit(apps, app, status, severity, emit, ctx);
}

static void follow(struct apps *apps, struct app *app, int64_t now_ms, emit_fn emit, void *ctx)
{
    static const char *const show[] = {"show", "-p", UNIT_SHOW_PROPERTIES};
    int interval_ms = app->spec.has_health ? app->spec.health.interval_ms : UNIT_POLL_DEFAULT_MS;
    if (!app->is_unit_job_running) {
        if (now_ms < app->next_unit_poll_ms) {
            return;
        }
        app->next_unit_poll_ms = now_ms + interval_ms;
        if (run_systemctl(apps, app, show, 3, now_ms, interval_ms) < 0) {
            log_msg("app %s: running systemctl show failed; asking again later", app->spec.name);
        }
        return;
    }
    struct job *job = &app->unit_job;
    job_read_output(job);
    if (!job->is_done && now_ms < app->unit_deadline_ms) {
        return;
    }
    app->is_unit_job_running = false;
    if (!job->is_done) {
        job_abandon(job);
        log_msg("app %s: systemctl show did not answer within %d ms", app->spec.name, interval_ms);
        return;
    }
    job_close(job);
    struct unit_state state;
    parse_show(job_tail_text(job), &state);
    if (job->status != 0 || state.active[0] == '\0') {
        return; /* no answer this time; the next poll asks again */
    }
    if (strcmp(state.active, "inactive") == 0 || strcmp(state.active, "failed") == 0) {
        record_unit_exit(apps, app, &state, emit, ctx);
    } else if (state.main_pid > 0 && state.main_pid != app->pid) {
        app->pid = (pid_t)state.main_pid;
    }
}

void apps_follow_units(struct apps *apps, int64_t now_ms, emit_fn emit, void *ctx)
{
    for (size_t i = 0; i < APPS_MAX; i++) {
        struct app *app = &apps->slots[i];
        if ((app->state == APP_RUNNING || app->state == APP_STOPPING) &&
            app->spec.unit[0] != '\0') {
            follow(apps, app, now_ms, emit, ctx);
        }
    }
}

/* Starting an app's process: its cgroup, node binding, health schedule and start reply. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "apps.h"
#include "cgroup.h"
#include "health.h"
#include "linux_abi.h"
#include "log.h"
#include "messages.h"
#include "protocol.h"
#include "request_fields.h"
#include "spawn.h"
#include "textfile.h"

#define SPAWN_MESSAGE_BYTES 1024
/* The agent's own environment entries passed on (after the app's env, which wins). */
#define SPAWN_ENV_INHERITED_MAX 64

extern char **environ;

/* The app's env entries, then the agent's entries whose keys the app did not set. */
static void build_env(const struct string_list *env, char **out)
{
    size_t count = 0;
    list_to_argv(env, out);
    count = env->count;
    size_t inherited = 0;
    for (char **entry = environ; *entry && inherited < SPAWN_ENV_INHERITED_MAX; entry++) {
        size_t key_len = strcspn(*entry, "=");
        bool is_overridden = false;
        for (size_t i = 0; i < env->count && !is_overridden; i++) {
            is_overridden = strncmp(out[i], *entry, key_len + 1) == 0;
        }
        if (!is_overridden) {
            out[count++] = *entry;
            inherited++;
        }
    }
    out[count] = NULL;
}

/* What the child was doing when it failed, for the spawn-failed message. */
static void describe_step(const struct app *app, enum spawn_step step, char *out, size_t cap)
{
    switch (step) {
    case SPAWN_STEP_CGROUP:
        snprintf(out, cap, "moving it into cgroup %s/%s: ", CGROUP_BATON_DIR, app->spec.name);
        break;
    case SPAWN_STEP_NODE:
        snprintf(out, cap, "binding its memory to node %u: ", app->spec.node);
        break;
    case SPAWN_STEP_STDIN:
        snprintf(out, cap, "opening %s: ", DEV_NULL_PATH);
        break;
    case SPAWN_STEP_OUTPUT:
        snprintf(out, cap, "redirecting its output: ");
        break;
    case SPAWN_STEP_IDENTITY:
        snprintf(out, cap, "switching to uid %u gid %u: ", (unsigned)app->identity.uid,
                 (unsigned)app->identity.gid);
        break;
    case SPAWN_STEP_WORKDIR:
        snprintf(out, cap, "changing to workdir %s: ", app->spec.workdir);
        break;
    case SPAWN_STEP_EXEC:
        out[0] = '\0';
        break;
    }
}

/* Sets up the cgroup (with memoryBytes or node) and runs the process. */
json_t *spawn_started(struct apps *apps, struct app *app, json_int_t id, int64_t now_ms)
{
    char *argv[APP_ARGV_MAX + 1];
    char *arg = app->spec.args;
    for (size_t i = 0; i < app->spec.argc; i++) {
        argv[i] = arg;
        arg += strlen(arg) + 1;
    }
    argv[app->spec.argc] = NULL;
    char message[SPAWN_MESSAGE_BYTES];
    char detail[SPAWN_MESSAGE_BYTES / 2];
    struct spawn_options opts = SPAWN_OPTIONS_INIT;
    opts.has_node = app->spec.has_node;
    opts.node = app->spec.node;
    opts.identity = app->identity;
    char workdir[PATH_MAX];
    if (app->spec.workdir[0] != '\0') {
        if (path_join(workdir, sizeof(workdir), apps->root, app->spec.workdir) < 0) {
            return fail_start(apps, app, id, ERR_SPAWN_FAILED, "workdir is too long");
        }
        opts.workdir = workdir;
    }
    char *envp[APP_ENV_MAX + SPAWN_ENV_INHERITED_MAX + 1];
    build_env(&app->spec.env, envp);
    opts.envp = envp;
    if (app->spec.has_memory || app->spec.has_node) {
        struct cgroup_setup setup;
        app->has_cgroup = true; /* a half-made group is removed too */
        if (cgroup_prepare(apps->root, &app->spec, &setup, detail, sizeof(detail)) < 0) {
            snprintf(message, sizeof(message), "starting %s failed: %s", argv[0], detail);
            return fail_start(apps, app, id, ERR_SPAWN_FAILED, message);
        }
        app->oom_kills_at_start = setup.oom_kills;
        opts.cgroup_procs_fd = setup.procs_fd;
    }
    pid_t pid;
    enum spawn_step step;
    int rc = spawn_app(apps->root, argv, &opts, &pid, &step);
    if (opts.cgroup_procs_fd >= 0) {
        close(opts.cgroup_procs_fd);
    }
    if (rc < 0) {
        describe_step(app, step, detail, sizeof(detail));
        snprintf(message, sizeof(message), "starting %s failed: %s%s", argv[0], detail,
                 strerror(-rc));
        return fail_start(apps, app, id, ERR_SPAWN_FAILED, message);
    }
    app->pid = pid;
    app->state = APP_RUNNING;
    app->has_reply = false;
    if (app->spec.has_health) {
        health_schedule(&app->health, now_ms + app->spec.health.interval_ms);
    } else {
        app->is_ready = true; /* app.ready right after the reply */
        app->is_ready_pending = true;
    }
    log_msg("started app %s (pid %d): %s", app->spec.name, (int)pid, argv[0]);
    return build_reply_ok(id, json_pack("{s:s, s:i}", "name", app->spec.name, "pid", (int)pid));
}

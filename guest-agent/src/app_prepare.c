/* An app's identities (user, group, the disk's owner) and its data disk's first use: an empty
 * file system gets its owner and the app's prepare command, run once as that owner. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "apps.h"
#include "disk.h"
#include "log.h"
#include "messages.h"
#include "protocol.h"
#include "request_fields.h"
#include "textfile.h"

#define PREPARE_MESSAGE_BYTES 768
/* mke2fs leaves this directory in a new file system; it does not make the disk used. */
#define LOST_FOUND_NAME "lost+found"

json_t *resolve_app_identities(struct apps *apps, struct app *app, json_int_t id)
{
    char message[PREPARE_MESSAGE_BYTES];
    char detail[PREPARE_MESSAGE_BYTES / 2];
    const struct app_spec *spec = &app->spec;
    if (resolve_identity(apps->root, spec->user, spec->group, &app->identity, detail,
                         sizeof(detail)) < 0) {
        snprintf(message, sizeof(message), "starting %s failed: %s", spec->name, detail);
        return fail_start(apps, app, id, ERR_ACCOUNT_NOT_FOUND, message);
    }
    app->owner = app->identity; /* the default owner: the app's user and group */
    bool has_owner = spec->owner_user[0] != '\0';
    if (has_owner && resolve_identity(apps->root, spec->owner_user, spec->owner_group,
                                      &app->owner, detail, sizeof(detail)) < 0) {
        snprintf(message, sizeof(message), "disk owner of %s: %s", spec->name, detail);
        return fail_start(apps, app, id, ERR_ACCOUNT_NOT_FOUND, message);
    }
    return NULL;
}

/* 1 when the directory holds nothing but lost+found, 0 when it holds more, or -errno. */
static int is_fresh_file_system(const char *path)
{
    DIR *dir = opendir(path);
    if (!dir) {
        return -errno;
    }
    int fresh = 1;
    for (struct dirent *entry; fresh && (entry = readdir(dir)) != NULL;) {
        const char *name = entry->d_name;
        fresh = strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
                strcmp(name, LOST_FOUND_NAME) == 0;
    }
    closedir(dir);
    return fresh;
}

/* Chowns the fresh disk and starts prepare; NULL or the failure reply. */
static json_t *begin(struct apps *apps, struct app *app, json_int_t id, int64_t now_ms)
{
    char message[PREPARE_MESSAGE_BYTES];
    char path[PATH_MAX];
    const struct app_spec *spec = &app->spec;
    int fresh = path_join(path, sizeof(path), apps->root, spec->mount_point);
    fresh = fresh < 0 ? fresh : is_fresh_file_system(path);
    if (fresh < 0) {
        snprintf(message, sizeof(message), "reading %s failed: %s", spec->mount_point,
                 strerror(-fresh));
        return fail_start(apps, app, id, ERR_MOUNT_FAILED, message);
    }
    app->prepare_state = PREPARE_DONE;
    if (!fresh) {
        return NULL; /* used before: prepare ran (or was not asked for) then */
    }
    if (app->owner.is_set && chown(path, app->owner.uid, app->owner.gid) < 0) {
        snprintf(message, sizeof(message), "chown %u:%u %s failed: %s",
                 (unsigned)app->owner.uid, (unsigned)app->owner.gid, spec->mount_point,
                 strerror(errno));
        return fail_start(apps, app, id, ERR_MOUNT_FAILED, message);
    }
    log_msg("app %s: %s is a fresh file system (owner %u:%u)%s", spec->name, spec->mount_point,
            (unsigned)app->owner.uid, (unsigned)app->owner.gid,
            spec->prepare.count > 0 ? "; running prepare" : "");
    if (spec->prepare.count == 0) {
        return NULL;
    }
    char *argv[APP_ARGV_MAX + 1];
    list_to_argv(&spec->prepare, argv);
    struct spawn_options opts = SPAWN_OPTIONS_INIT;
    opts.identity = app->owner;
    opts.workdir = path;
    enum spawn_step step;
    int rc = job_start(&app->prepare_job, apps->root, argv, &opts, &step);
    if (rc < 0) {
        snprintf(message, sizeof(message), "prepare %s failed to start: %s", argv[0],
                 strerror(-rc));
        return fail_start(apps, app, id, ERR_PREPARE_FAILED, message);
    }
    app->prepare_state = PREPARE_RUNNING;
    app->prepare_deadline_ms = now_ms + APP_PREPARE_TIMEOUT_MS;
    return NULL;
}

json_t *step_prepare(struct apps *apps, struct app *app, json_int_t id, int64_t now_ms,
                     bool *is_waiting)
{
    if (app->prepare_state == PREPARE_UNCHECKED) {
        json_t *failure = begin(apps, app, id, now_ms);
        if (failure || app->prepare_state == PREPARE_DONE) {
            return failure;
        }
    }
    if (app->prepare_state == PREPARE_DONE) {
        return NULL;
    }
    struct job *job = &app->prepare_job;
    const char *program = app->spec.prepare.text;
    char message[PREPARE_MESSAGE_BYTES];
    job_read_output(job);
    if (!job->is_done && now_ms < app->prepare_deadline_ms) {
        app->next_scan_ms = now_ms + DISK_POLL_MS;
        *is_waiting = true;
        return NULL;
    }
    if (!job->is_done) {
        job_abandon(job);
        snprintf(message, sizeof(message), "prepare %s did not finish within %d ms: %s", program,
                 APP_PREPARE_TIMEOUT_MS, job_tail_text(job));
        return fail_start(apps, app, id, ERR_PREPARE_FAILED, message);
    }
    job_close(job);
    app->prepare_state = PREPARE_DONE;
    if (job->status == 0) {
        log_msg("app %s: prepare %s finished", app->spec.name, program);
        return NULL;
    }
    char how[64];
    describe_wait_status(job->status, how, sizeof(how));
    snprintf(message, sizeof(message), "prepare %s failed with %s: %s", program, how,
             job_tail_text(job));
    return fail_start(apps, app, id, ERR_PREPARE_FAILED, message);
}

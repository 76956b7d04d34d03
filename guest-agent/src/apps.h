/* The fixed table of applications the agent runs for the host, and how it moves them along. */
#ifndef BATON_APPS_H
#define BATON_APPS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent.h"

enum app_state {
    APP_FREE,
    APP_STARTING, /* app.start is waiting for its disk to appear */
    APP_RUNNING,
    APP_STOPPING, /* app.stop signalled the process group; waiting for the exit */
    APP_EXITED,   /* reaped; listed as not running until the slot is reused */
};

/* A validated app.start request. */
struct app_spec {
    char name[APP_NAME_MAX_CHARS + 1];
    char args[LINE_MAX_BYTES]; /* the argv strings back to back, each NUL-terminated */
    size_t argc;
    bool has_disk;
    char serial[DISK_SERIAL_MAX_CHARS + 1];
    char mount_point[LINE_MAX_BYTES];
};

struct app {
    enum app_state state;
    struct app_spec spec;
    pid_t pid;             /* also its process group id */
    bool is_mounted;       /* spec.mount_point is ours to unmount */
    bool has_reply;        /* an app.start or app.stop waits for its reply */
    json_int_t reply_id;
    int64_t deadline_ms;   /* STARTING: give up on the disk; STOPPING: SIGKILL, then give up */
    int64_t next_scan_ms;  /* STARTING: next look for the disk */
    bool is_killed;        /* STOPPING: SIGKILL was sent */
    int wait_status;       /* EXITED: as waitpid reported it */
    bool is_exit_pending;  /* EXITED: app.exited not yet written to the host */
};

struct apps {
    const char *root; /* --root prefix, also for /apps and /data paths */
    int disk_wait_ms;
    struct app slots[APPS_MAX];
};

/* Writes one message (stolen) to the host; returns true when it went out. */
typedef bool (*emit_fn)(void *ctx, json_t *msg);

void apps_init(struct apps *apps, const char *root, int disk_wait_ms);

/* app_request.c: validation of app.start and app.stop; false with a message naming the
 * field in err. */
bool parse_app_start(const json_t *request, struct app_spec *spec, char *err, size_t cap);
bool parse_app_stop(const json_t *request, char *name, int64_t *timeout_ms, char *err,
                    size_t cap);

/* app_steps.c: one step of a starting app: look for the disk, mount it, spawn. Returns the
 * reply (ok, or an error that freed the slot), or NULL while the disk is still awaited. */
json_t *step_start(struct apps *apps, struct app *app, json_int_t id, int64_t now_ms);
/* Sends the next signal to a stopping app when its deadline passed; a reply when it gave up. */
json_t *step_stop(struct app *app, int64_t now_ms);
/* Runs the due steps of starting and stopping apps, emitting their replies. */
void apps_advance(struct apps *apps, int64_t now_ms, emit_fn emit, void *ctx);
/* Milliseconds until the next due step (0 when one is due), or -1 when none is scheduled. */
int apps_next_step_ms(const struct apps *apps, int64_t now_ms);
/* The host went away: replies still owed belong to the old connection and are not sent. */
void apps_forget_replies(struct apps *apps);

/* app_exits.c: collects ended children: unmounts, records the exit, emits app.exited and
 * then any app.stop reply. */
void apps_reap(struct apps *apps, emit_fn emit, void *ctx);
/* Emits app.exited for every exit not yet delivered. */
void apps_flush_exits(struct apps *apps, emit_fn emit, void *ctx);

/* apps.c: shared pieces. */
json_t *build_app_exited(const struct app *app);
/* { name, code, signal } for an exited app. */
json_t *build_app_exit_result(const struct app *app);
void unmount_app_disk(struct apps *apps, struct app *app);
/* Sends signo to the app's process group (or, if that is gone, to its process). */
void signal_app(const struct app *app, int signo);

#endif

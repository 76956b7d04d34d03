/* The fixed table of applications the agent runs for the host, and how it moves them along. */
#ifndef BATON_APPS_H
#define BATON_APPS_H

#include <jansson.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "accounts.h"
#include "agent.h"
#include "job.h"

/* app.exited severities (docs/agent-protocol.md, "Supervision (v2)"). */
#define SEVERITY_CLEAN "clean"
#define SEVERITY_FAILED "failed"
#define SEVERITY_CRASHED "crashed"
#define SEVERITY_OOM "oom"
#define SEVERITY_HANG "hang"
#define SEVERITY_STOPPED "stopped"
#define SEVERITY_KILLED "killed"

/* Longest health answer line read (PONG and a newline, with room for noise). */
#define HEALTH_ANSWER_MAX_BYTES 64

enum app_state {
    APP_FREE,
    APP_STARTING, /* app.start is waiting for memory or its disk (see start_phase) */
    APP_RUNNING,
    APP_STOPPING, /* app.stop signalled the process group; waiting for the exit */
    APP_DRAINING, /* the main process was reaped; its cgroup's leftovers are being killed */
    APP_EXITED,   /* reaped; listed as not running until the slot is reused */
};

/* Where a starting app is: memory first, then its disk, then the spawn. */
enum start_phase {
    START_MEMORY,         /* check the node's MemTotal against memoryBytes */
    START_MEMORY_ASKED,   /* mem.request sent; waiting for the host's mem.answer */
    START_MEMORY_GRANTED, /* granted: checking the node again until MEM_GRANT_WAIT_MS */
    START_MEMORY_REFUSED, /* refused: fail with the host's reason */
    START_DISK,           /* look for the disk until deadline_ms, mount it, spawn */
};

/* A unit app's systemctl steps (unit_start.c, unit_follow.c). */
enum unit_step {
    UNIT_CHECK,   /* systemctl show -p LoadState: the unit must be loaded */
    UNIT_RELOAD,  /* the runtime drop-in written; systemctl daemon-reload */
    UNIT_START,   /* systemctl start */
    UNIT_PID,     /* systemctl show -p MainPID */
    UNIT_RUNNING, /* followed with systemctl show every poll interval */
};

/* The data disk's first-use work after it is mounted (app_prepare.c). */
enum prepare_state {
    PREPARE_UNCHECKED, /* not looked at yet: is the file system empty? */
    PREPARE_RUNNING,   /* spec.prepare runs as the owner until prepare_deadline_ms */
    PREPARE_DONE,      /* the disk is ready for the app */
};

enum health_kind {
    HEALTH_KIND_LINE, /* send a line, the answer must start with expect (PING/PONG) */
    HEALTH_KIND_TCP,  /* a connection is accepted */
    HEALTH_KIND_HTTP, /* GET path over HTTP/1.0, a 2xx status line */
    HEALTH_KIND_EXEC, /* argv exits 0 within timeoutMs */
};

/* A list of strings back to back, each NUL-terminated. */
struct string_list {
    char text[LINE_MAX_BYTES];
    size_t count;
};

struct health_spec {
    enum health_kind kind;
    int port;
    int interval_ms;
    int timeout_ms;
    int failures_to_unhealthy;
    char send[HEALTH_TEXT_MAX_BYTES + 2]; /* line: with its newline */
    char expect[HEALTH_TEXT_MAX_BYTES + 1];
    char path[APP_PATH_MAX_BYTES + 1];   /* http */
    struct string_list argv;             /* exec */
};

/* A validated app.start request. */
struct app_spec {
    char name[APP_NAME_MAX_CHARS + 1];
    char args[LINE_MAX_BYTES]; /* the argv strings back to back, each NUL-terminated */
    size_t argc;               /* 0 for a unit app */
    char unit[UNIT_NAME_MAX_CHARS + 1]; /* "" for an argv app */
    char user[ACCOUNT_NAME_MAX_CHARS + 1];  /* "": the agent's */
    char group[ACCOUNT_NAME_MAX_CHARS + 1]; /* "": the user's primary group */
    struct string_list env;                 /* KEY=VALUE entries added to the agent's */
    char workdir[APP_PATH_MAX_BYTES + 1];   /* "": the agent's */
    bool has_disk;
    char serial[DISK_SERIAL_MAX_CHARS + 1];
    char mount_point[APP_PATH_MAX_BYTES + 1];
    char owner_user[ACCOUNT_NAME_MAX_CHARS + 1];  /* "": the app's user, else root */
    char owner_group[ACCOUNT_NAME_MAX_CHARS + 1]; /* "": the app's group, else root */
    struct string_list prepare;                   /* count 0: none */
    bool has_memory;
    uint64_t memory_bytes;
    bool has_node;
    unsigned node;
    bool has_health;
    struct health_spec health;
};

enum health_phase {
    HEALTH_IDLE,       /* next check at next_ms */
    HEALTH_CONNECTING, /* non-blocking connect in progress until deadline_ms */
    HEALTH_AWAITING,   /* PING sent; reading the answer until deadline_ms */
    HEALTH_RUNNING,    /* exec: the command runs until deadline_ms */
};

/* One app's health check: a connection to 127.0.0.1:port, PING, PONG. */
struct health_check {
    enum health_phase phase;
    int fd;
    int64_t next_ms;     /* IDLE: when the next check starts */
    int64_t started_ms;  /* when the current check started */
    int64_t deadline_ms; /* CONNECTING, AWAITING: the check fails then */
    int failures;        /* in a row */
    char answer[HEALTH_ANSWER_MAX_BYTES];
    size_t answer_len;
    struct job job; /* exec */
};

struct app {
    enum app_state state;
    struct app_spec spec;
    pid_t pid;             /* also its process group id */
    bool is_mounted;       /* spec.mount_point is ours to unmount */
    bool has_reply;        /* an app.start or app.stop waits for its reply */
    json_int_t reply_id;
    int64_t deadline_ms;   /* STARTING: give up on the disk; STOPPING: SIGKILL, then give up;
                              DRAINING: report the exit even with leftovers */
    int64_t next_scan_ms;  /* STARTING: next look for the disk; DRAINING: next kill */
    bool is_killed;        /* STOPPING: SIGKILL was sent */
    int wait_status;       /* EXITED: as waitpid reported it */
    bool is_exit_pending;  /* EXITED: app.exited not yet written to the host */
    const char *severity;  /* EXITED: SEVERITY_* */
    enum start_phase phase;            /* STARTING */
    bool is_mem_request_pending;       /* START_MEMORY_ASKED: mem.request not yet written */
    uint64_t mem_request_bytes;        /* what mem.request asks for */
    char refusal[MEM_REFUSAL_MAX_BYTES + 1]; /* START_MEMORY_REFUSED: the host's reason */
    bool has_cgroup;                   /* CGROUP_BATON_DIR/<name> was set up for it */
    uint64_t oom_kills_at_start;       /* memory.events oom_kill when it was spawned */
    bool is_ready_pending;             /* app.ready not yet written */
    bool is_ready;                     /* app.ready was due (sent or pending) */
    bool is_hang_killed;               /* SIGKILLed by the agent: health check failed */
    struct health_check health;        /* RUNNING with spec.has_health */
    struct identity identity;          /* what the app (and its exec check) runs as */
    struct identity owner;             /* the data disk's owner; what prepare runs as */
    enum prepare_state prepare_state;  /* STARTING with a mounted disk */
    int64_t prepare_deadline_ms;
    struct job prepare_job;
    enum unit_step unit_step;          /* unit apps */
    struct job unit_job;               /* the systemctl of the current step or poll */
    bool is_unit_job_running;
    int64_t unit_deadline_ms;          /* the current step gives up then */
    int64_t unit_step_started_ms;      /* when the current step's systemctl started (logs) */
    int64_t unit_start_deadline_ms;    /* STARTING unit: every step together gives up then */
    int64_t next_unit_poll_ms;         /* RUNNING/STOPPING unit: next systemctl show */
    uint64_t unit_memory_max_bytes;    /* its cgroup's memory.max once started (UINT64_MAX: max) */
    char unit_numa_policy[16];         /* NUMAPolicy and NUMAMask as systemd reports them */
    char unit_numa_mask[32];
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
/* The `field` of request as an app name (1-32 characters [a-z0-9-]) into name. */
bool parse_app_name(const json_t *request, const char *field, char *name, char *err,
                    size_t cap);
bool parse_app_stop(const json_t *request, char *name, int64_t *timeout_ms, char *err,
                    size_t cap);

/* supervision_request.c: the v2 fields of app.start (memoryBytes, node, health). */
bool parse_supervision(const json_t *request, struct app_spec *spec, char *err, size_t cap);

/* app_steps.c: one step of a starting app: check its node's memory, look for the disk, mount
 * it, spawn. Returns the reply (ok, or an error that freed the slot), or NULL while memory or
 * the disk is still awaited. */
json_t *step_start(struct apps *apps, struct app *app, json_int_t id, int64_t now_ms);
/* Sends the next signal to a stopping app when its deadline passed; a reply when it gave up. */
json_t *step_stop(struct app *app, int64_t now_ms);
/* Runs the due steps of starting and stopping apps, emitting their replies. */
void apps_advance(struct apps *apps, int64_t now_ms, emit_fn emit, void *ctx);
/* Milliseconds until the next due step (0 when one is due), or -1 when none is scheduled. */
int apps_next_step_ms(const struct apps *apps, int64_t now_ms);
/* The host went away: replies still owed belong to the old connection and are not sent. */
void apps_forget_replies(struct apps *apps);

/* app_prepare.c: resolves the app's identity and the disk's owner (once, before the disk);
 * NULL, or the failure reply (the slot freed). */
json_t *resolve_app_identities(struct apps *apps, struct app *app, json_int_t id);
/* After the mount: an empty file system gets its owner and spec.prepare. NULL when the disk
 * is ready, NULL with *is_waiting while prepare runs, or the failure reply. */
json_t *step_prepare(struct apps *apps, struct app *app, json_int_t id, int64_t now_ms,
                     bool *is_waiting);

/* app_memory.c: the memory phases of a start. Returns NULL when done (phase START_DISK),
 * NULL with *is_waiting, or the failure reply (the slot freed). */
json_t *step_memory(struct apps *apps, struct app *app, json_int_t id, int64_t now_ms,
                    bool *is_waiting);
/* The host went away: starts waiting for a mem.answer can no longer get one; they are
 * dropped (logged). */
void apps_abandon_memory_waits(struct apps *apps);

/* app_health.c: runs due health checks of running apps: app.ready on the first pass, SIGKILL
 * after failuresToUnhealthy failures in a row. */
void apps_check_health(struct apps *apps, int64_t now_ms);
/* Adds the sockets of checks in progress to fds (at most APPS_MAX); returns how many. */
size_t apps_health_pollfds(const struct apps *apps, struct pollfd *fds);

/* app_exits.c: collects ended children: unmounts, records the exit and its severity, emits
 * app.exited and then any app.stop reply. */
void apps_reap(struct apps *apps, emit_fn emit, void *ctx);
/* A reaped pid that may be one of the apps' commands (prepare, exec check); true if it was. */
bool apps_claim_job_exit(struct apps *apps, pid_t pid, int status);
/* Emits what is not yet delivered, per slot: mem.request, app.ready, app.exited. */
void apps_flush_notices(struct apps *apps, emit_fn emit, void *ctx);

/* apps.c: shared pieces. */
struct app *find_app(struct apps *apps, const char *name);
/* The not-running error for a request that needs app running, or NULL when it is. */
json_t *check_app_running(json_int_t id, const char *name, const struct app *app);
void unmount_app_disk(struct apps *apps, struct app *app);
/* Sends signo to the app's process group (or, if that is gone, to its process). */
void signal_app(const struct app *app, int signo);

/* unit_start.c: starts a unit app through systemctl (jobs, one step per call). Returns the
 * reply (ok with MainPID, or the failure, the slot freed), or NULL while a step runs. */
json_t *step_unit_start(struct apps *apps, struct app *app, json_int_t id, int64_t now_ms);
/* Starts `systemctl <verb...> <unit>` as the app's unit job, giving up at timeout_ms. */
int run_systemctl(struct apps *apps, struct app *app, const char *const *verb, size_t count,
                  int64_t now_ms, int timeout_ms);

/* unit_props.c: writes /run/systemd/system/<unit>.d/50-baton.conf (Restart=no, MemoryMax,
 * NUMAPolicy=bind, NUMAMask); 0, DROP_IN_UNCHANGED when it already said exactly that, or -errno. */
#define DROP_IN_UNCHANGED 1
int write_unit_drop_in(struct apps *apps, const struct app *app);
/* The value of key in systemctl show's "Key=value" fields (newlines shown as
 * spaces); false when absent. */
bool show_value(const char *text, const char *key, char *out, size_t cap);
/* Checks what systemd applied (MainPID, Restart, MemoryMax, NUMAPolicy, NUMAMask) against the app's spec
 * and reads its cgroup's memory.max; sets the app's pid and unit_* fields. 0, or -1 with why. */
int check_unit_props(struct apps *apps, struct app *app, const char *text, char *why, size_t cap);
/* unit_follow.c: polls running unit apps' state; an inactive or failed unit is an exit. */
void apps_follow_units(struct apps *apps, int64_t now_ms, emit_fn emit, void *ctx);
/* app_exits.c: records an exit (wait status, severity); kills what is left in the app's
 * process group and cgroup; once the cgroup is empty (or after APP_LEFTOVER_WAIT_MS) unmounts,
 * removes the cgroup and emits app.exited and any app.stop reply. */
void record_app_exit(struct apps *apps, struct app *app, int status, const char *severity,
                     emit_fn emit, void *ctx);
/* The exit is recorded and nothing is left to wait for: unmounts, removes the cgroup, emits
 * app.exited and any app.stop reply (state EXITED). */
void finish_app_exit(struct apps *apps, struct app *app, emit_fn emit, void *ctx);

/* app_drain.c: SIGKILLs what is left in an exited app's cgroup; true when some of it still
 * lives (state DRAINING, its exit finished by step_drain), false when nothing is left. */
bool start_drain(struct apps *apps, struct app *app, int64_t now_ms);
/* A draining app's next kill, when due; finishes its exit once the cgroup is empty or after
 * APP_LEFTOVER_WAIT_MS. */
void step_drain(struct apps *apps, struct app *app, int64_t now_ms, emit_fn emit, void *ctx);
const char *exit_severity_of(const struct apps *apps, const struct app *app, int status);

/* app_spawn.c: sets up the cgroup (with memoryBytes or node), runs the process and returns
 * the start reply (or the spawn-failed error, the slot freed). */
json_t *spawn_started(struct apps *apps, struct app *app, json_int_t id, int64_t now_ms);

/* app_steps.c: ends a start that failed (unmounts, removes its cgroup, frees the slot) and
 * returns the error reply. */
json_t *fail_start(struct apps *apps, struct app *app, json_int_t id, const char *code,
                   const char *message);

/* app_messages.c */
json_t *build_app_exited(const struct app *app);
/* { name, code, signal } for an exited app. */
json_t *build_app_exit_result(const struct app *app);
json_t *build_app_ready(const struct app *app);
json_t *build_mem_request(const struct app *app);

#endif

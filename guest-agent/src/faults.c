/* Fault injection for tests: fault.panic crashes the guest kernel through sysrq, fault.hang
 * freezes it, fault.app-crash/app-hang/app-fail signal an app. */
#include "faults.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "apps.h"
#include "linux_abi.h"
#include "log.h"
#include "messages.h"
#include "protocol.h"
#include "textfile.h"

#define FAULT_MESSAGE_BYTES 256

/* The faults-disabled error, or NULL when baton.faults=1. */
static json_t *check_enabled(const struct protocol_ctx *ctx, json_int_t id)
{
    if (ctx->cfg->is_faults_enabled) {
        return NULL;
    }
    return build_reply_error(id, ERR_FAULTS_DISABLED,
                             "fault injection is off; it needs " CMDLINE_FAULTS_KEY
                             CMDLINE_FAULTS_ON " on the kernel command line");
}

json_t *handle_fault_panic(struct protocol_ctx *ctx, json_int_t id, const json_t *request)
{
    (void)request;
    json_t *refusal = check_enabled(ctx, id);
    if (refusal) {
        return refusal;
    }
    ctx->should_panic = true; /* the session writes the reply first */
    return build_reply_ok(id, json_object());
}

json_t *handle_fault_hang(struct protocol_ctx *ctx, json_int_t id, const json_t *request)
{
    (void)request;
    json_t *refusal = check_enabled(ctx, id);
    if (refusal) {
        return refusal;
    }
    ctx->should_hang = true; /* the session writes the reply first */
    return build_reply_ok(id, json_object());
}

/* Sends signo to the process group of the running app the request names. */
static json_t *signal_named_app(struct protocol_ctx *ctx, json_int_t id, const json_t *request,
                                int signo)
{
    json_t *refusal = check_enabled(ctx, id);
    if (refusal) {
        return refusal;
    }
    char name[APP_NAME_MAX_CHARS + 1];
    char message[FAULT_MESSAGE_BYTES];
    if (!parse_app_name(request, "name", name, message, sizeof(message))) {
        return build_reply_error(id, ERR_BAD_REQUEST, message);
    }
    struct app *app = find_app(ctx->apps, name);
    refusal = check_app_running(id, name, app);
    if (refusal) {
        return refusal;
    }
    log_msg("fault injection: sending signal %d (%s) to app %s (pid %d)", signo,
            strsignal(signo), name, (int)app->pid);
    signal_app(app, signo);
    return build_reply_ok(id, json_object());
}

json_t *handle_fault_app_crash(struct protocol_ctx *ctx, json_int_t id, const json_t *request)
{
    return signal_named_app(ctx, id, request, SIGSEGV);
}

json_t *handle_fault_app_hang(struct protocol_ctx *ctx, json_int_t id, const json_t *request)
{
    return signal_named_app(ctx, id, request, SIGSTOP);
}

json_t *handle_fault_app_fail(struct protocol_ctx *ctx, json_int_t id, const json_t *request)
{
    return signal_named_app(ctx, id, request, SIGTERM);
}

void trigger_panic(const char *root)
{
    /* write() on a virtio-serial port returns once the reply is queued, not once QEMU has
     * read it; give QEMU a moment before the panic pauses the VM. */
    poll(NULL, 0, FAULT_PANIC_DELAY_MS);
    char path[PATH_MAX];
    int rc = path_join(path, sizeof(path), root, PROC_SYSRQ_TRIGGER_PATH);
    int fd = rc < 0 ? rc : open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        log_msg("fault.panic: opening %s failed: %s", PROC_SYSRQ_TRIGGER_PATH,
                strerror(rc < 0 ? -rc : errno));
        return;
    }
    log_msg("fault.panic: writing '%s' to %s", SYSRQ_CRASH_COMMAND, PROC_SYSRQ_TRIGGER_PATH);
    ssize_t n = write(fd, SYSRQ_CRASH_COMMAND, strlen(SYSRQ_CRASH_COMMAND));
    if (n < 0) {
        log_msg("fault.panic: writing %s failed: %s", PROC_SYSRQ_TRIGGER_PATH, strerror(errno));
    }
    close(fd);
}

void trigger_hang(const char *root)
{
    /* As for fault.panic: let QEMU read the reply before the guest stops. */
    poll(NULL, 0, FAULT_HANG_DELAY_MS);
    char path[PATH_MAX];
    int rc = path_join(path, sizeof(path), root, SYSFS_POWER_STATE_PATH);
    int fd = rc < 0 ? rc : open(path, O_WRONLY | O_CLOEXEC);
    int err = fd < 0 ? (rc < 0 ? -rc : errno) : 0;
    if (fd >= 0) {
        log_msg("fault.hang: writing '%s' to %s", POWER_STATE_FREEZE, SYSFS_POWER_STATE_PATH);
        ssize_t n = write(fd, POWER_STATE_FREEZE, strlen(POWER_STATE_FREEZE));
        err = n < 0 ? errno : 0;
        close(fd);
    }
    if (err == 0) {
        log_msg("fault.hang: the guest runs again");
        return;
    }
    log_msg("fault.hang: freezing through %s failed: %s; blocking without heartbeats",
            SYSFS_POWER_STATE_PATH, strerror(err));
    for (;;) {
        pause(); /* signals still run their handlers; nothing else does */
    }
}

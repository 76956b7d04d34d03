/* Fault injection for tests: fault.panic crashes the guest kernel through sysrq. */
#include "faults.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "linux_abi.h"
#include "log.h"
#include "messages.h"
#include "protocol.h"
#include "textfile.h"

json_t *handle_fault_panic(struct protocol_ctx *ctx, json_int_t id, const json_t *request)
{
    (void)request;
    if (!ctx->cfg->is_faults_enabled) {
        return build_reply_error(id, ERR_FAULTS_DISABLED,
                                 "fault injection is off; it needs " CMDLINE_FAULTS_KEY
                                 CMDLINE_FAULTS_ON " on the kernel command line");
    }
    ctx->should_panic = true; /* the session writes the reply first */
    return build_reply_ok(id, json_object());
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

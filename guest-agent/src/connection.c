/* The agent's connection to the host: hello, lines out, requests in, losing the link. */
#include "connection.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "faults.h"
#include "log.h"

/* Discards input queued before the host went away, so a new connection starts clean. */
static void drain_input(struct session *s)
{
    char scratch[LINE_MAX_BYTES];
    for (int i = 0; i < DRAIN_MAX_READS && read(s->port.fd, scratch, sizeof(scratch)) > 0; i++) {
    }
}

void lose_link(struct session *s, const char *reason, bool is_port_gone)
{
    if (s->is_up) {
        log_msg("host disconnected from %s: %s", s->port.path, reason);
        s->should_exit = s->cfg->is_once;
    }
    s->is_up = false;
    s->is_wait_logged = false;
    apps_forget_replies(&s->apps);
    apps_abandon_memory_waits(&s->apps);
    /* A virtio-serial fd stays valid across host reconnects; a unix socket does not. */
    if (is_port_gone || s->port.is_socket) {
        close_port(&s->port);
    } else {
        drain_input(s);
    }
}

static bool send_line(struct session *s, size_t len)
{
    if (!s->is_up || len == 0) {
        return false;
    }
    enum write_result result = write_line(&s->writer, s->out, len, WRITE_TIMEOUT_MS);
    if (result == WRITE_OK && s->dropped_lines > 0) {
        log_msg("host is reading again; %u lines were dropped", s->dropped_lines);
        s->dropped_lines = 0;
    } else if (result == WRITE_TIMED_OUT && s->dropped_lines++ == 0) {
        log_msg("host is not reading %s; dropping lines after %d ms", s->port.path,
                WRITE_TIMEOUT_MS);
    } else if (result == WRITE_HUNG_UP) {
        lose_link(s, "hangup while writing", false);
    } else if (result == WRITE_FAILED) {
        lose_link(s, strerror(errno), true);
    }
    return result == WRITE_OK;
}

bool emit_message(void *ctx, json_t *msg)
{
    struct session *s = ctx;
    if (!s->is_up) {
        json_decref(msg);
        return false;
    }
    return send_line(s, serialize_line(msg, s->out, sizeof(s->out)));
}

static void handle_line(void *ctx, const char *line, size_t len, bool is_too_long)
{
    struct session *s = ctx;
    if (!s->is_up) {
        return;
    }
    s->requests.is_reply_deferred = false;
    s->requests.should_panic = false;
    s->requests.should_hang = false;
    size_t out_len = is_too_long
                         ? protocol_line_too_long(s->out, sizeof(s->out))
                         : protocol_handle_line(&s->requests, line, len, s->out, sizeof(s->out));
    send_line(s, out_len);
    if (s->requests.should_panic) {
        trigger_panic(s->cfg->root); /* after the reply went out, as the protocol says */
    }
    if (s->requests.should_hang) {
        trigger_hang(s->cfg->root);
    }
    /* What the request caused (mem.request, app.ready) follows its reply at once. */
    apps_flush_notices(&s->apps, emit_message, s);
}

static void start_connection(struct session *s)
{
    line_reader_reset(&s->reader);
    s->writer = (struct line_writer){.fd = s->port.fd};
    s->is_up = true;
    s->seq = 0;
    s->dropped_lines = 0;
    send_line(s, serialize_line(build_hello(s->cfg), s->out, sizeof(s->out)));
    if (s->is_up) {
        log_msg("host connected on %s; sent hello", s->port.path);
    }
    s->next_beat_ms = monotonic_ms() + s->cfg->heartbeat_ms;
}

/* While nobody is on the host side, virtio-serial reports POLLHUP at once: look again
 * every HOST_WAIT_RETRY_MS instead of spinning. */
int wait_for_host(struct session *s)
{
    enum port_link link = probe_port(&s->port);
    if (link == PORT_LINK_UP) {
        start_connection(s);
        return 0;
    }
    if (link == PORT_LINK_ERROR) {
        log_msg("polling %s failed; reopening", s->port.path);
        close_port(&s->port);
    } else if (s->port.is_socket) {
        close_port(&s->port); /* the peer closed it; connect again */
    } else if (!s->is_wait_logged) {
        log_msg("waiting for the host to connect to %s", s->port.path);
        s->is_wait_logged = true;
    }
    return HOST_WAIT_RETRY_MS;
}

void read_input(struct session *s)
{
    char chunk[LINE_MAX_BYTES];
    ssize_t n = read(s->port.fd, chunk, sizeof(chunk));
    if (n > 0) {
        line_reader_feed(&s->reader, chunk, (size_t)n, handle_line, s);
    } else if (n == 0) {
        lose_link(s, "end of file", false);
    } else if (errno == EIO) {
        lose_link(s, "hangup while reading", false); /* a pty whose master closed */
    } else if (errno != EAGAIN && errno != EINTR) {
        lose_link(s, strerror(errno), true); /* e.g. ENODEV: the port was unplugged */
    }
}

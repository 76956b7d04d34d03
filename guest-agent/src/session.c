/* The agent's main loop: wait for the host, say hello, heartbeat, answer requests. */
#include "session.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "framing.h"
#include "log.h"
#include "messages.h"
#include "port.h"
#include "protocol.h"

struct session {
    const struct agent_config *cfg;
    struct port port;
    struct line_reader reader;
    struct line_writer writer;
    bool is_up;             /* hello sent; heartbeats and replies flow */
    bool is_wait_logged;    /* "waiting for the host" already said for this wait */
    bool should_exit;       /* --once and the host closed the channel */
    unsigned dropped_lines; /* consecutive lines the host did not drain in time */
    uint64_t seq;
    int64_t next_beat_ms;
    char out[OUT_LINE_BYTES];
};

/* Discards input queued before the host went away, so a new connection starts clean. */
static void drain_input(struct session *s)
{
    char scratch[LINE_MAX_BYTES];
    for (int i = 0; i < DRAIN_MAX_READS && read(s->port.fd, scratch, sizeof(scratch)) > 0; i++) {
    }
}

static void lose_link(struct session *s, const char *reason, bool is_port_gone)
{
    if (s->is_up) {
        log_msg("host disconnected from %s: %s", s->port.path, reason);
        s->should_exit = s->cfg->is_once;
    }
    s->is_up = false;
    s->is_wait_logged = false;
    /* A virtio-serial fd stays valid across host reconnects; a unix socket does not. */
    if (is_port_gone || s->port.is_socket) {
        close_port(&s->port);
    } else {
        drain_input(s);
    }
}

static void send_line(struct session *s, size_t len)
{
    if (!s->is_up || len == 0) {
        return;
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
}

static void handle_line(void *ctx, const char *line, size_t len, bool is_too_long)
{
    struct session *s = ctx;
    if (!s->is_up) {
        return;
    }
    size_t out_len = is_too_long ? protocol_line_too_long(s->out, sizeof(s->out))
                                 : protocol_handle_line(s->cfg, line, len, s->out, sizeof(s->out));
    send_line(s, out_len);
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
static void wait_for_host(struct session *s)
{
    enum port_link link = probe_port(&s->port);
    if (link == PORT_LINK_UP) {
        start_connection(s);
        return;
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
    poll(NULL, 0, HOST_WAIT_RETRY_MS);
}

static void send_heartbeat(struct session *s, int64_t now_ms)
{
    s->seq++;
    send_line(s, serialize_line(build_heartbeat(s->cfg, s->seq), s->out, sizeof(s->out)));
    /* Keep the period; after a stall skip the missed beats rather than bursting. */
    s->next_beat_ms += s->cfg->heartbeat_ms;
    if (s->next_beat_ms <= now_ms) {
        s->next_beat_ms = now_ms + s->cfg->heartbeat_ms;
    }
}

static void serve_input(struct session *s, int timeout_ms)
{
    struct pollfd pfd = {.fd = s->port.fd, .events = POLLIN};
    int ready = poll(&pfd, 1, timeout_ms);
    if (ready < 0 && errno != EINTR) {
        log_msg("poll on %s failed: %s", s->port.path, strerror(errno));
        lose_link(s, strerror(errno), true);
        return;
    }
    if (ready <= 0) {
        return;
    }
    if (pfd.revents & POLLIN) {
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
    } else if (pfd.revents & (POLLHUP | POLLERR | POLLNVAL)) {
        lose_link(s, "hangup", (pfd.revents & POLLNVAL) != 0);
    }
}

void run_agent(const struct agent_config *cfg, const volatile sig_atomic_t *stop)
{
    struct session s = {.cfg = cfg, .port = {.fd = -1}};
    while (!*stop && !s.should_exit) {
        if (s.port.fd < 0 && open_port_retrying(cfg, &s.port, stop) < 0) {
            break;
        }
        if (!s.is_up) {
            wait_for_host(&s);
            continue;
        }
        int64_t now_ms = monotonic_ms();
        if (now_ms >= s.next_beat_ms) {
            send_heartbeat(&s, now_ms);
        } else {
            serve_input(&s, (int)(s.next_beat_ms - now_ms));
        }
    }
    close_port(&s.port);
}

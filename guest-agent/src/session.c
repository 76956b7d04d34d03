/* The agent's main loop: open the port, wait for the host, heartbeat, serve requests and
 * move apps along, sleeping in one poll until the next thing is due. */
#include "session.h"

#include <errno.h>
#include <poll.h>
#include <string.h>

#include "clock.h"
#include "connection.h"
#include "log.h"
#include "spawn.h"

static void send_heartbeat(struct session *s, int64_t now_ms)
{
    s->seq++;
    emit_message(s, build_heartbeat(s->cfg, s->seq));
    /* Keep the period; after a stall skip the missed beats rather than bursting. */
    s->next_beat_ms += s->cfg->heartbeat_ms;
    if (s->next_beat_ms <= now_ms) {
        s->next_beat_ms = now_ms + s->cfg->heartbeat_ms;
    }
}

/* Waits up to timeout_ms for input from the host, a child's exit or a health-check socket,
 * and reads the input. */
static void wait_for_events(struct session *s, int timeout_ms)
{
    struct pollfd fds[2 + APPS_MAX] = {
        {.fd = s->child_fd, .events = POLLIN},
        {.fd = s->is_up ? s->port.fd : -1, .events = POLLIN},
    };
    /* Health-check sockets only wake the loop; apps_advance reads them. */
    size_t count = 2 + apps_health_pollfds(&s->apps, fds + 2);
    int ready = poll(fds, count, timeout_ms);
    if (ready < 0 && errno != EINTR) {
        log_msg("poll on %s failed: %s", s->port.path, strerror(errno));
        lose_link(s, strerror(errno), true);
        return;
    }
    if (ready <= 0) {
        return;
    }
    if (fds[0].revents & POLLIN) {
        drain_child_signals(s->child_fd); /* the loop reaps on its next pass */
    }
    if (fds[1].revents & POLLIN) {
        read_input(s);
    } else if (fds[1].revents & (POLLHUP | POLLERR | POLLNVAL)) {
        lose_link(s, "hangup", (fds[1].revents & POLLNVAL) != 0);
    }
}

/* Opens the port, waits for the host or beats; returns how long the loop may sleep. */
static int serve_link(struct session *s)
{
    if (s->port.fd < 0) {
        return open_port_step(s->cfg, &s->port, &s->retry);
    }
    if (!s->is_up) {
        return wait_for_host(s);
    }
    int64_t now_ms = monotonic_ms();
    if (now_ms >= s->next_beat_ms) {
        send_heartbeat(s, now_ms);
        return 0;
    }
    return (int)(s->next_beat_ms - now_ms);
}

void run_agent(const struct agent_config *cfg, const volatile sig_atomic_t *stop)
{
    static struct session s; /* holds the app table: kept off the stack */
    memset(&s, 0, sizeof(s));
    s.cfg = cfg;
    s.port.fd = -1;
    apps_init(&s.apps, cfg->root, cfg->disk_wait_ms);
    s.requests = (struct protocol_ctx){.cfg = cfg, .apps = &s.apps};
    s.child_fd = watch_children();
    if (s.child_fd < 0) {
        log_msg("watching for app exits failed: %s; reaping on each wake-up only",
                strerror(-s.child_fd));
    }
    while (!*stop && !s.should_exit) {
        apps_reap(&s.apps, emit_message, &s);
        apps_advance(&s.apps, monotonic_ms(), emit_message, &s);
        apps_flush_notices(&s.apps, emit_message, &s);
        int wait_ms = serve_link(&s);
        if (wait_ms == 0) {
            continue;
        }
        int app_step_ms = apps_next_step_ms(&s.apps, monotonic_ms());
        if (app_step_ms >= 0 && app_step_ms < wait_ms) {
            wait_ms = app_step_ms;
        }
        wait_for_events(&s, wait_ms);
    }
    close_port(&s.port);
}

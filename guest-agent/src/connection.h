/* The agent's connection to the host: hello, lines out, requests in, losing the link. */
#ifndef BATON_CONNECTION_H
#define BATON_CONNECTION_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent.h"
#include "apps.h"
#include "framing.h"
#include "messages.h"
#include "port.h"
#include "protocol.h"

struct session {
    const struct agent_config *cfg;
    struct port port;
    struct port_retry retry;
    struct line_reader reader;
    struct line_writer writer;
    struct apps apps;
    struct protocol_ctx requests;
    int child_fd;           /* readable when a child may have ended; -1 if unavailable */
    bool is_up;             /* hello sent; heartbeats and replies flow */
    bool is_wait_logged;    /* "waiting for the host" already said for this wait */
    bool should_exit;       /* --once and the host closed the channel */
    unsigned dropped_lines; /* consecutive lines the host did not drain in time */
    uint64_t seq;
    int64_t next_beat_ms;
    char out[OUT_LINE_BYTES];
};

/* Serializes and writes msg (stolen) if the host is connected; true when it went out. Has
 * the emit_fn signature (ctx is the session). */
bool emit_message(void *ctx, json_t *msg);

/* Forgets the connection: replies still owed are dropped; the fd is kept for virtio-serial
 * (it survives host reconnects) and closed for a socket or when is_port_gone. */
void lose_link(struct session *s, const char *reason, bool is_port_gone);

/* Sends hello when the host side is connected and returns 0; otherwise returns how long to
 * wait before looking again. */
int wait_for_host(struct session *s);

/* Reads what the host sent and answers every complete line. */
void read_input(struct session *s);

#endif

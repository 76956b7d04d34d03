/* kvd: a small durable TCP key-value server, the demo application of baton guests.
 *
 *   kvd --port N --data DIR [--max-keys N]
 *
 * One poll() loop serves up to MAX_CONNS clients with fixed-size buffers. Every SET is appended
 * to DIR/kv.log and fsynced before it is answered; at start the log is replayed. */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"
#include "store.h"

#define MAX_CONNS 256
#define IN_CAP (KV_LINE_MAX + 2) /* the longest line plus "\r" and "\n" */
#define OUT_CAP 4096             /* replies queue here; reading pauses while it is nearly full */
#define LINGER_MS 2000           /* after a closing reply: how long to drain the peer's input */
#define LINGER_MAX_BYTES 65536
#define ACCEPT_PAUSE_MS 100 /* after running out of descriptors or memory in accept() */

#define USAGE "usage: kvd --port N --data DIR [--max-keys N]\n"

enum conn_state {
    CONN_FREE,
    CONN_OPEN,    /* reading requests, answering them */
    CONN_CLOSING, /* sending what is queued (ending with an error), then LINGER */
    CONN_LINGER,  /* write side shut: discard input until EOF so the reply is not reset away */
};

struct conn {
    enum conn_state state;
    int fd;
    bool peer_eof;
    size_t in_len;
    size_t out_off, out_len; /* queued bytes are out[out_off..out_len) */
    size_t discarded;
    int64_t deadline_ms;
    char in[IN_CAP];
    char out[OUT_CAP];
};

static struct conn conns[MAX_CONNS];
static int conn_count;
static struct kv_store store;
static struct kv_log kvlog;
static volatile sig_atomic_t stop_signal;

static void on_stop(int signo)
{
    stop_signal = signo;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int usage_error(const char *fmt, const char *arg)
{
    fputs("kvd: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n" USAGE, stderr);
    return 2;
}

/* Decimal digits only (no sign, no spaces), value <= max. */
static bool parse_number(const char *s, unsigned long max, unsigned long *out)
{
    unsigned long v = 0;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (unsigned long)(*s - '0');
        if (v > max)
            return false;
    }
    *out = v;
    return true;
}

struct options {
    const char *port_arg, *data_arg, *max_keys_arg;
    unsigned long port, max_keys;
};

/* Returns -1 to run, else an exit status. Options: "--name value" or "--name=value". */
static int parse_args(int argc, char **argv, struct options *o)
{
    static const char *const names[] = {"--port", "--data", "--max-keys"};
    const char **slots[] = {&o->port_arg, &o->data_arg, &o->max_keys_arg};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            fputs(USAGE, stdout);
            return 0;
        }
        size_t k;
        for (k = 0; k < 3; k++) {
            size_t n = strlen(names[k]);
            if (strncmp(arg, names[k], n) == 0 && (arg[n] == '\0' || arg[n] == '='))
                break;
        }
        if (k == 3)
            return usage_error("unknown argument: %s", arg);
        if (*slots[k])
            return usage_error("%s given twice", names[k]);
        const char *eq = strchr(arg, '=');
        if (eq) {
            *slots[k] = eq + 1;
        } else {
            if (i + 1 >= argc)
                return usage_error("%s needs a value", names[k]);
            *slots[k] = argv[++i];
        }
    }
    if (!o->port_arg)
        return usage_error("%s is required", "--port");
    if (!o->data_arg)
        return usage_error("%s is required", "--data");
    if (!parse_number(o->port_arg, 65535, &o->port))
        return usage_error("bad --port '%s' (0-65535; 0 lets the kernel choose)", o->port_arg);
    if (!*o->data_arg)
        return usage_error("%s must not be empty", "--data");
    o->max_keys = KV_MAX_KEYS;
    if (o->max_keys_arg &&
        (!parse_number(o->max_keys_arg, KV_MAX_KEYS, &o->max_keys) || o->max_keys == 0))
        return usage_error("bad --max-keys '%s' (1-65536)", o->max_keys_arg);
    return -1;
}

static int listen_on(unsigned port, unsigned *bound_port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons((uint16_t)port),
                               .sin_addr.s_addr = htonl(INADDR_ANY)};
    socklen_t len = sizeof addr;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 128) != 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &len) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    *bound_port = ntohs(addr.sin_port);
    return fd;
}

static void conn_close(struct conn *c)
{
    close(c->fd);
    c->state = CONN_FREE;
    conn_count--;
}

static void conn_queue(struct conn *c, const char *data, size_t len)
{
    memcpy(c->out + c->out_len, data, len);
    c->out_len += len;
}

/* Room for another reply at the end of out (compacting it first). */
static bool conn_has_room(struct conn *c)
{
    if (c->out_off > 0) {
        memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
        c->out_len -= c->out_off;
        c->out_off = 0;
    }
    return OUT_CAP - c->out_len >= KV_RESPONSE_MAX;
}

/* Sends what is queued without blocking. Returns -1 if the connection is dead. */
static int conn_flush(struct conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            return -1;
        }
        c->out_off += (size_t)n;
    }
    c->out_off = c->out_len = 0;
    return 0;
}

static void conn_fail_line_too_long(struct conn *c)
{
    static const char msg[] = "ERR line too long\n";
    conn_queue(c, msg, sizeof msg - 1);
    c->in_len = 0;
    c->state = CONN_CLOSING;
}

/* Answers every complete line that has room in out. */
static void conn_process(struct conn *c)
{
    while (c->state == CONN_OPEN && conn_has_room(c)) {
        char *nl = memchr(c->in, '\n', c->in_len);
        if (!nl) {
            if (c->in_len == IN_CAP)
                conn_fail_line_too_long(c);
            return;
        }
        size_t line_len = (size_t)(nl - c->in);
        size_t content = line_len - (line_len > 0 && c->in[line_len - 1] == '\r');
        if (content > KV_LINE_MAX) {
            conn_fail_line_too_long(c);
            return;
        }
        c->out_len += kv_handle_line(&store, &kvlog, c->in, line_len, c->out + c->out_len);
        c->in_len -= line_len + 1;
        memmove(c->in, nl + 1, c->in_len);
    }
}

static void conn_read(struct conn *c)
{
    for (;;) {
        ssize_t n = read(c->fd, c->in + c->in_len, IN_CAP - c->in_len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            /* EOF or a reset: an unterminated last line is not a request. */
            c->peer_eof = true;
            return;
        }
        c->in_len += (size_t)n;
        return;
    }
}

static void conn_linger_read(struct conn *c)
{
    char sink[4096];
    for (;;) {
        ssize_t n = read(c->fd, sink, sizeof sink);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0 || (c->discarded += (size_t)n) > LINGER_MAX_BYTES) {
            conn_close(c);
            return;
        }
    }
}

/* Moves a connection along after I/O: answer, send, and close when there is nothing left. */
static void conn_advance(struct conn *c)
{
    if (c->state == CONN_OPEN) {
        /* Lines whose replies did not fit are answered as the queue drains; each round answers
         * at least one line, and it stops when the peer is not taking replies. */
        for (;;) {
            conn_process(c);
            if (conn_flush(c) != 0) {
                conn_close(c);
                return;
            }
            if (c->state != CONN_OPEN || c->out_len != 0 || !memchr(c->in, '\n', c->in_len))
                break;
        }
        if (c->state == CONN_OPEN && c->peer_eof && c->out_len == 0 &&
            !memchr(c->in, '\n', c->in_len)) {
            conn_close(c);
            return;
        }
    }
    if (c->state == CONN_CLOSING) {
        if (conn_flush(c) != 0) {
            conn_close(c);
            return;
        }
        if (c->out_len == 0) {
            if (c->peer_eof || shutdown(c->fd, SHUT_WR) != 0) {
                conn_close(c);
                return;
            }
            c->state = CONN_LINGER;
            c->discarded = 0;
            c->deadline_ms = now_ms() + LINGER_MS;
        }
    }
}

static void accept_clients(int listen_fd, int64_t *accept_paused_until)
{
    static const char busy[] = "ERR too many clients\n";
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            fprintf(stderr, "kvd: accept: %s; pausing %d ms\n", strerror(errno), ACCEPT_PAUSE_MS);
            *accept_paused_until = now_ms() + ACCEPT_PAUSE_MS;
            return;
        }
        if (conn_count == MAX_CONNS) {
            if (send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
                /* nothing more to do for a client we cannot serve */
            }
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        for (int i = 0; i < MAX_CONNS; i++) {
            struct conn *c = &conns[i];
            if (c->state != CONN_FREE)
                continue;
            c->state = CONN_OPEN;
            c->fd = fd;
            c->peer_eof = false;
            c->in_len = c->out_off = c->out_len = 0;
            conn_count++;
            break;
        }
    }
}

static void serve(int listen_fd, const sigset_t *run_mask)
{
    static struct pollfd pfds[1 + MAX_CONNS];
    static int owner[1 + MAX_CONNS];
    int64_t accept_paused_until = 0;
    while (!stop_signal) {
        int64_t now = now_ms(), timeout = -1;
        int n = 0;
        if (now >= accept_paused_until) {
            pfds[n] = (struct pollfd){.fd = listen_fd, .events = POLLIN};
            owner[n++] = -1;
        } else {
            timeout = accept_paused_until - now;
        }
        for (int i = 0; i < MAX_CONNS; i++) {
            struct conn *c = &conns[i];
            short events = 0;
            switch (c->state) {
            case CONN_FREE:
                continue;
            case CONN_OPEN:
                if (!c->peer_eof && c->in_len < IN_CAP && OUT_CAP - c->out_len >= KV_RESPONSE_MAX)
                    events |= POLLIN;
                if (c->out_len > c->out_off)
                    events |= POLLOUT;
                break;
            case CONN_CLOSING:
                events = POLLOUT;
                break;
            case CONN_LINGER:
                if (c->deadline_ms <= now) {
                    conn_close(c);
                    continue;
                }
                if (timeout < 0 || c->deadline_ms - now < timeout)
                    timeout = c->deadline_ms - now;
                events = POLLIN;
                break;
            }
            pfds[n] = (struct pollfd){.fd = c->fd, .events = events};
            owner[n++] = i;
        }
        struct timespec ts = {.tv_sec = timeout / 1000, .tv_nsec = (timeout % 1000) * 1000000};
        int ready = ppoll(pfds, (nfds_t)n, timeout < 0 ? NULL : &ts, run_mask);
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "kvd: poll: %s\n", strerror(errno));
            exit(1);
        }
        for (int k = 0; k < n && ready > 0; k++) {
            if (!pfds[k].revents)
                continue;
            ready--;
            if (owner[k] < 0) {
                accept_clients(listen_fd, &accept_paused_until);
                continue;
            }
            struct conn *c = &conns[owner[k]];
            if (c->state == CONN_LINGER) {
                conn_linger_read(c);
                continue;
            }
            if (pfds[k].revents & POLLNVAL) {
                conn_close(c);
                continue;
            }
            /* POLLHUP/POLLERR surface through read() or send() failing. */
            if (c->state == CONN_OPEN && c->in_len < IN_CAP &&
                (pfds[k].revents & (POLLIN | POLLHUP | POLLERR)))
                conn_read(c);
            conn_advance(c);
        }
    }
}

int main(int argc, char **argv)
{
    struct options opt = {0};
    int rc = parse_args(argc, argv, &opt);
    if (rc >= 0)
        return rc;

    /* "DIR/" and "DIR" name the same log. */
    static char dir[PATH_MAX];
    if ((size_t)snprintf(dir, sizeof dir, "%s", opt.data_arg) >= sizeof dir) {
        fprintf(stderr, "kvd: --data path too long\n");
        return 1;
    }
    for (size_t len = strlen(dir); len > 1 && dir[len - 1] == '/'; len--)
        dir[len - 1] = '\0';

    /* SIGTERM/SIGINT are blocked except inside ppoll(), so a stop request is never missed. */
    struct sigaction stop_action = {.sa_handler = on_stop};
    sigemptyset(&stop_action.sa_mask);
    sigaction(SIGTERM, &stop_action, NULL);
    sigaction(SIGINT, &stop_action, NULL);
    struct sigaction ignore = {.sa_handler = SIG_IGN};
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGPIPE, &ignore, NULL);
    sigset_t stop_set, run_mask;
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGTERM);
    sigaddset(&stop_set, SIGINT);
    sigprocmask(SIG_BLOCK, &stop_set, &run_mask);
    sigdelset(&run_mask, SIGTERM);
    sigdelset(&run_mask, SIGINT);

    if (kv_store_init(&store, (uint32_t)opt.max_keys) != 0) {
        fprintf(stderr, "kvd: out of memory for %lu keys\n", opt.max_keys);
        return 1;
    }
    const char *what = "";
    if (kv_log_open(&kvlog, dir, &what) != 0) {
        if (errno == EWOULDBLOCK)
            fprintf(stderr, "kvd: %s/%s is locked by another kvd\n", dir, KV_LOG_NAME);
        else
            fprintf(stderr, "kvd: %s: %s (%s)\n", what, strerror(errno), dir);
        return 1;
    }
    struct kv_replay stats;
    if (kv_log_replay(&kvlog, &store, &stats, &what) != 0) {
        if (errno == EOVERFLOW)
            fprintf(stderr, "kvd: %s/%s holds more than %lu keys (--max-keys)\n", dir,
                    KV_LOG_NAME, opt.max_keys);
        else
            fprintf(stderr, "kvd: %s: %s (%s/%s)\n", what, strerror(errno), dir, KV_LOG_NAME);
        return 1;
    }
    if (stats.torn_bytes > 0)
        fprintf(stderr, "kvd: dropped an unterminated last record (%lld bytes) from %s/%s\n",
                (long long)stats.torn_bytes, dir, KV_LOG_NAME);
    if (stats.malformed > 0)
        fprintf(stderr, "kvd: skipped %u malformed lines in %s/%s\n", (unsigned)stats.malformed,
                dir, KV_LOG_NAME);
    fprintf(stderr, "kvd: replayed %u keys from %s/%s\n", (unsigned)store.count, dir,
            KV_LOG_NAME);

    unsigned port;
    int listen_fd = listen_on((unsigned)opt.port, &port);
    if (listen_fd < 0) {
        fprintf(stderr, "kvd: listen on 0.0.0.0:%lu: %s\n", opt.port, strerror(errno));
        return 1;
    }
    fprintf(stderr, "kvd: listening on port %u\n", port);

    serve(listen_fd, &run_mask);

    fprintf(stderr, "kvd: %s received, exiting\n", stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
    for (int i = 0; i < MAX_CONNS; i++)
        if (conns[i].state != CONN_FREE)
            conn_close(&conns[i]);
    close(listen_fd);
    close(kvlog.fd); /* every acknowledged record is already fsynced */
    return 0;
}

/* One app's network health check on 127.0.0.1:port (tcp: connect; line: send, expect; http:
 * GET, 2xx); non-blocking, advanced by the main loop. */
#include "health.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void health_schedule(struct health_check *check, int64_t at_ms)
{
    check->phase = HEALTH_IDLE;
    check->next_ms = at_ms;
}

void health_cancel(struct health_check *check)
{
    if (check->phase == HEALTH_RUNNING) {
        job_abandon(&check->job);
    } else if (check->phase != HEALTH_IDLE) {
        close(check->fd); /* the fd is only valid while a check is in progress */
    }
    health_schedule(check, INT64_MAX);
}

static enum health_result finish(struct health_check *check, const struct health_spec *spec,
                                 int64_t now_ms, enum health_result result)
{
    close(check->fd);
    int64_t next_ms = check->started_ms + spec->interval_ms;
    health_schedule(check, next_ms > now_ms ? next_ms : now_ms);
    return result;
}

static enum health_result fail(struct health_check *check, const struct health_spec *spec,
                               int64_t now_ms, char *why, size_t cap, const char *what, int err)
{
    snprintf(why, cap, "%s%s%s", what, err ? ": " : "", err ? strerror(err) : "");
    return finish(check, spec, now_ms, HEALTH_FAILED);
}

/* tcp passes on the connect; line sends its text, http its request. */
static enum health_result send_probe(struct health_check *check, const struct health_spec *spec,
                                     int64_t now_ms, char *why, size_t cap)
{
    if (spec->kind == HEALTH_KIND_TCP) {
        return finish(check, spec, now_ms, HEALTH_PASSED);
    }
    char request[APP_PATH_MAX_BYTES + 64];
    if (spec->kind == HEALTH_KIND_HTTP) {
        snprintf(request, sizeof(request), "GET %s " HTTP_VERSION "\r\nHost: " HEALTH_HOST
                 "\r\n\r\n", spec->path);
    } else {
        snprintf(request, sizeof(request), "%s", spec->send);
    }
    size_t len = strlen(request);
    ssize_t n = send(check->fd, request, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n != (ssize_t)len) {
        return fail(check, spec, now_ms, why, cap, "sending the probe failed",
                    n < 0 ? errno : EIO);
    }
    check->phase = HEALTH_AWAITING;
    check->answer_len = 0;
    return HEALTH_PENDING;
}

static enum health_result start(struct health_check *check, const struct health_spec *spec,
                                int64_t now_ms, char *why, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(why, cap, "creating a socket failed: %s", strerror(errno));
        health_schedule(check, now_ms + spec->interval_ms);
        return HEALTH_FAILED;
    }
    check->fd = fd;
    check->started_ms = now_ms;
    check->deadline_ms = now_ms + spec->timeout_ms;
    check->phase = HEALTH_CONNECTING;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)spec->port)};
    inet_pton(AF_INET, HEALTH_HOST, &addr.sin_addr);
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
        return send_probe(check, spec, now_ms, why, cap);
    }
    if (errno != EINPROGRESS) {
        return fail(check, spec, now_ms, why, cap, "connecting failed", errno);
    }
    return HEALTH_PENDING;
}

static bool is_ready(int fd, short events)
{
    struct pollfd pfd = {.fd = fd, .events = events};
    return poll(&pfd, 1, 0) == 1 && pfd.revents != 0;
}

static enum health_result step_connect(struct health_check *check,
                                       const struct health_spec *spec, int64_t now_ms, char *why,
                                       size_t cap)
{
    if (!is_ready(check->fd, POLLOUT)) {
        if (now_ms < check->deadline_ms) {
            return HEALTH_PENDING;
        }
        char what[64];
        snprintf(what, sizeof(what), "no connection within %d ms", spec->timeout_ms);
        return fail(check, spec, now_ms, why, cap, what, 0);
    }
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(check->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
        err = errno;
    }
    return err ? fail(check, spec, now_ms, why, cap, "connecting failed", err)
               : send_probe(check, spec, now_ms, why, cap);
}

/* Whether the complete answer line passes; otherwise what it said, in what. */
static bool judge(const struct health_spec *spec, const char *line, char *what, size_t cap)
{
    if (spec->kind == HEALTH_KIND_HTTP) {
        int status = parse_http_status(line);
        snprintf(what, cap, "GET %s answered '%s'", spec->path, line);
        return status >= 200 && status <= 299;
    }
    snprintf(what, cap, "answered '%s' instead of %s", line, spec->expect);
    return is_expected_answer(line, spec->expect);
}

static enum health_result step_answer(struct health_check *check,
                                      const struct health_spec *spec, int64_t now_ms, char *why,
                                      size_t cap)
{
    size_t room = sizeof(check->answer) - 1 - check->answer_len;
    ssize_t n = -1;
    int err = EAGAIN;
    if (is_ready(check->fd, POLLIN)) {
        n = recv(check->fd, check->answer + check->answer_len, room, MSG_DONTWAIT);
        err = n < 0 ? errno : 0;
    }
    if (n < 0 && err != EAGAIN && err != EWOULDBLOCK && err != EINTR) {
        return fail(check, spec, now_ms, why, cap, "reading the answer failed", err);
    }
    check->answer_len += n > 0 ? (size_t)n : 0;
    bool is_complete = n == 0 || memchr(check->answer, '\n', check->answer_len) ||
                       check->answer_len == sizeof(check->answer) - 1;
    if (is_complete) {
        const char *line = answer_line(check->answer, check->answer_len);
        char what[HEALTH_ANSWER_MAX_BYTES + APP_PATH_MAX_BYTES + 32];
        if (judge(spec, line, what, sizeof(what))) {
            return finish(check, spec, now_ms, HEALTH_PASSED);
        }
        return fail(check, spec, now_ms, why, cap,
                    n == 0 && line[0] == '\0' ? "closed without answering" : what, 0);
    }
    if (now_ms < check->deadline_ms) {
        return HEALTH_PENDING;
    }
    char what[64];
    snprintf(what, sizeof(what), "no answer within %d ms", spec->timeout_ms);
    return fail(check, spec, now_ms, why, cap, what, 0);
}

enum health_result health_step(struct health_check *check, const struct health_spec *spec,
                               int64_t now_ms, char *why, size_t cap)
{
    switch (check->phase) {
    case HEALTH_IDLE:
        return now_ms < check->next_ms ? HEALTH_PENDING : start(check, spec, now_ms, why, cap);
    case HEALTH_CONNECTING:
        return step_connect(check, spec, now_ms, why, cap);
    case HEALTH_AWAITING:
        return step_answer(check, spec, now_ms, why, cap);
    case HEALTH_RUNNING:
        return HEALTH_PENDING; /* exec checks are moved along by app_health.c */
    }
    return HEALTH_PENDING;
}

int64_t health_due_ms(const struct health_check *check)
{
    return check->phase == HEALTH_IDLE ? check->next_ms : check->deadline_ms;
}

bool health_pollfd(const struct health_check *check, struct pollfd *out)
{
    if (check->phase == HEALTH_IDLE) {
        return false;
    }
    if (check->phase == HEALTH_RUNNING) {
        return false; /* its exit wakes the loop through SIGCHLD */
    }
    *out = (struct pollfd){.fd = check->fd,
                           .events = check->phase == HEALTH_CONNECTING ? POLLOUT : POLLIN};
    return true;
}

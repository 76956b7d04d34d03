/* One app's health check: connect to 127.0.0.1:port, send PING, expect PONG; non-blocking,
 * advanced by the main loop. */
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
    if (check->phase != HEALTH_IDLE) {
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

static enum health_result send_ping(struct health_check *check, const struct health_spec *spec,
                                    int64_t now_ms, char *why, size_t cap)
{
    size_t len = strlen(HEALTH_PING);
    ssize_t n = send(check->fd, HEALTH_PING, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n != (ssize_t)len) {
        return fail(check, spec, now_ms, why, cap, "sending PING failed", n < 0 ? errno : EIO);
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
        return send_ping(check, spec, now_ms, why, cap);
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
               : send_ping(check, spec, now_ms, why, cap);
}

/* Trims the answer line (up to its newline or the end of input) in place and returns it,
 * with anything unprintable shown as '?'. */
static const char *answer_line(char *answer, size_t len)
{
    answer[len] = '\0';
    char *end = memchr(answer, '\n', len);
    end = end ? end : answer + len;
    while (end > answer && isspace((unsigned char)end[-1])) {
        end--;
    }
    *end = '\0';
    while (isspace((unsigned char)*answer)) {
        answer++;
    }
    for (char *c = answer; *c != '\0'; c++) {
        *c = isprint((unsigned char)*c) ? *c : '?';
    }
    return answer;
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
        if (strcmp(line, HEALTH_PONG) == 0) {
            return finish(check, spec, now_ms, HEALTH_PASSED);
        }
        char what[HEALTH_ANSWER_MAX_BYTES + 32];
        snprintf(what, sizeof(what), "answered '%s' instead of " HEALTH_PONG, line);
        return fail(check, spec, now_ms, why, cap,
                    n == 0 && line[0] == '\0' ? "closed without answering" : what, 0);
    }
    if (now_ms < check->deadline_ms) {
        return HEALTH_PENDING;
    }
    char what[64];
    snprintf(what, sizeof(what), "no " HEALTH_PONG " within %d ms", spec->timeout_ms);
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
    *out = (struct pollfd){.fd = check->fd,
                           .events = check->phase == HEALTH_CONNECTING ? POLLOUT : POLLIN};
    return true;
}

/* The host's side of the agent channel in tests: a pty or unix socket, lines in and out. */
#define _GNU_SOURCE /* accept4 */
#include "agent_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "check.h"

void make_temp_dir(struct agent_proc *agent)
{
    if (agent->temp_dir[0] == '\0') {
        strcpy(agent->temp_dir, "/tmp/baton-agent-test-XXXXXX");
        CHECK(mkdtemp(agent->temp_dir) != NULL);
    }
}

void open_host_pty(struct agent_proc *agent)
{
    agent->host_fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    CHECK(agent->host_fd >= 0);
    CHECK(grantpt(agent->host_fd) == 0 && unlockpt(agent->host_fd) == 0);
    snprintf(agent->port_path, sizeof(agent->port_path), "%s", ptsname(agent->host_fd));
    /* Raw before the agent starts, so nothing is echoed while it sets raw mode itself. */
    agent->slave_fd = open(agent->port_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
    CHECK(agent->slave_fd >= 0);
    struct termios attrs;
    CHECK(tcgetattr(agent->slave_fd, &attrs) == 0);
    cfmakeraw(&attrs);
    CHECK(tcsetattr(agent->slave_fd, TCSANOW, &attrs) == 0);
}

void listen_host_socket(struct agent_proc *agent)
{
    make_temp_dir(agent);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int len = snprintf(agent->port_path, sizeof(agent->port_path), "%s/agent.sock",
                       agent->temp_dir);
    CHECK(len > 0 && (size_t)len < sizeof(agent->port_path));
    CHECK(strlen(agent->port_path) < sizeof(addr.sun_path));
    memcpy(addr.sun_path, agent->port_path, strlen(agent->port_path) + 1);
    agent->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(agent->listen_fd >= 0);
    CHECK(bind(agent->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) == 0);
    CHECK(listen(agent->listen_fd, 1) == 0);
}

bool accept_agent(struct agent_proc *agent, int timeout_ms)
{
    struct pollfd pfd = {.fd = agent->listen_fd, .events = POLLIN};
    if (poll(&pfd, 1, timeout_ms) != 1) {
        return false;
    }
    agent->host_fd = accept4(agent->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    agent->len = 0;
    return agent->host_fd >= 0;
}

void close_host(struct agent_proc *agent)
{
    if (agent->host_fd >= 0) {
        close(agent->host_fd);
    }
    agent->host_fd = -1;
    agent->len = 0;
}


bool send_text(struct agent_proc *agent, const char *text, size_t len)
{
    while (len > 0) {
        ssize_t n = write(agent->host_fd, text, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        text += n;
        len -= (size_t)n;
    }
    return true;
}

int read_line(struct agent_proc *agent, int timeout_ms, char *out, size_t cap)
{
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        char *newline = memchr(agent->buf, '\n', agent->len);
        if (newline) {
            size_t line_len = (size_t)(newline - agent->buf);
            size_t copy = line_len < cap - 1 ? line_len : cap - 1;
            memcpy(out, agent->buf, copy);
            out[copy] = '\0';
            memmove(agent->buf, newline + 1, agent->len - line_len - 1);
            agent->len -= line_len + 1;
            return (int)copy;
        }
        long long remaining = deadline - now_ms();
        if (remaining <= 0 || agent->len == sizeof(agent->buf)) {
            return -1;
        }
        struct pollfd pfd = {.fd = agent->host_fd, .events = POLLIN};
        if (poll(&pfd, 1, (int)remaining) <= 0) {
            continue;
        }
        ssize_t n = read(agent->host_fd, agent->buf + agent->len, sizeof(agent->buf) - agent->len);
        if (n <= 0 && !(n < 0 && errno == EINTR)) {
            return -1;
        }
        agent->len += n > 0 ? (size_t)n : 0;
    }
}

json_t *expect_message(struct agent_proc *agent, const char *type, int timeout_ms)
{
    static char line[LINE_MAX_BYTES + 1];
    long long deadline = now_ms() + timeout_ms;
    while (now_ms() < deadline) {
        if (read_line(agent, (int)(deadline - now_ms()), line, sizeof(line)) < 0) {
            break;
        }
        json_t *msg = json_loads(line, 0, NULL);
        const char *got = json_string_value(json_object_get(msg, "type"));
        if (got && strcmp(got, type) == 0) {
            return msg;
        }
        if (!got || strcmp(got, "heartbeat") != 0) {
            check_fail(__FILE__, __LINE__, "wanted a %s message, got: %s", type, line);
        }
        json_decref(msg);
    }
    check_fail(__FILE__, __LINE__, "no %s message within %d ms", type, timeout_ms);
    return NULL;
}

const char *next_message_text(struct agent_proc *agent)
{
    static char text[LINE_MAX_BYTES + 1];
    long long deadline = now_ms() + LINE_TIMEOUT_MS;
    while (read_line(agent, (int)(deadline - now_ms()), text, sizeof(text)) >= 0) {
        if (strncmp(text, "{\"type\":\"heartbeat\"", 19) != 0) {
            return text;
        }
    }
    return "(no answer)";
}

const char *request(struct agent_proc *agent, const char *line)
{
    CHECK(send_text(agent, line, strlen(line)) && send_text(agent, "\n", 1));
    return next_message_text(agent);
}

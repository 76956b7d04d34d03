/* Roots and requests for the app tests: a fixture tree with /apps and /data, app.start. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_harness.h"
#include "check.h"

/* A message as compact text for failure reports (static buffer). */
static const char *json_text(const json_t *msg)
{
    static char text[LINE_MAX_BYTES + 1];
    size_t len = msg ? json_dumpb(msg, text, sizeof(text) - 1, JSON_COMPACT) : 0;
    snprintf(text + (len < sizeof(text) ? len : 0), sizeof(text) - len, "%s",
             msg ? "" : "(nothing)");
    return text;
}

void make_app_root(struct agent_proc *agent, char *root, bool is_own_sys)
{
    char fixtures[PATH_MAX];
    char app[PATH_MAX];
    char path[PATH_MAX + 64];
    char target[PATH_MAX + 64];
    CHECK(realpath(test_env.fixtures_root, fixtures) != NULL);
    CHECK(realpath(test_env.app_path, app) != NULL);
    make_temp_dir(agent);
    int len = snprintf(root, PATH_MAX, "%.*s/root", PATH_MAX - 8, agent->temp_dir);
    CHECK(len > 0 && len < PATH_MAX);
    CHECK(mkdir(root, 0755) == 0);
    snprintf(target, sizeof(target), "%s/proc", fixtures);
    snprintf(path, sizeof(path), "%s/proc", root);
    CHECK(symlink(target, path) == 0);
    snprintf(target, sizeof(target), "%s/sys", fixtures);
    snprintf(path, sizeof(path), "%s/sys", root);
    if (is_own_sys) {
        CHECK(mkdir(path, 0755) == 0);
        snprintf(path, sizeof(path), "%s/sys/block", root);
        CHECK(mkdir(path, 0755) == 0);
    } else {
        CHECK(symlink(target, path) == 0);
    }
    snprintf(path, sizeof(path), "%s/apps", root);
    CHECK(mkdir(path, 0755) == 0);
    snprintf(path, sizeof(path), "%s/apps/test-app", root);
    CHECK(symlink(app, path) == 0);
    snprintf(path, sizeof(path), "%s/data", root);
    CHECK(mkdir(path, 0755) == 0);
}

void start_app_agent(struct agent_proc *agent, const char *root, const char *disk_wait_ms)
{
    open_host_pty(agent);
    const char *args[] = {"--port", agent->port_path, "--root", root, "--heartbeat-ms", "50",
                          "--disk-wait-ms", disk_wait_ms, NULL};
    start_agent(agent, args);
    json_decref(expect_message(agent, "hello", LINE_TIMEOUT_MS));
}

json_t *expect_reply(struct agent_proc *agent, long long id)
{
    json_t *reply = expect_message(agent, "reply", LINE_TIMEOUT_MS);
    if (reply && json_integer_value(json_object_get(reply, "id")) != id) {
        check_fail(__FILE__, __LINE__, "wanted the reply to %lld, got %s", id,
                   json_text(reply));
    }
    return reply;
}

int start_test_app(struct agent_proc *agent, long long id, const char *name, const char *args)
{
    int pid = start_supervised_app(agent, id, name, args, "");
    if (pid > 0) {
        expect_app_ready(agent, name, pid);
    }
    return pid;
}

void expect_app_ready(struct agent_proc *agent, const char *name, int pid)
{
    char expected[128];
    snprintf(expected, sizeof(expected), "{\"type\":\"app.ready\",\"name\":\"%s\",\"pid\":%d}",
             name, pid);
    json_t *ready = expect_message(agent, "app.ready", LINE_TIMEOUT_MS);
    CHECK_STR_EQ(json_text(ready), expected);
    json_decref(ready);
}

int start_supervised_app(struct agent_proc *agent, long long id, const char *name,
                         const char *args, const char *fields)
{
    char line[2048];
    int len = snprintf(line, sizeof(line),
                       "{\"type\":\"app.start\",\"id\":%lld,\"name\":\"%s\","
                       "\"argv\":[\"/apps/test-app\",%s]%s}\n",
                       id, name, args, fields);
    CHECK(send_text(agent, line, (size_t)len));
    json_t *reply = expect_reply(agent, id);
    json_t *result = json_object_get(reply, "result");
    int pid = (int)json_integer_value(json_object_get(result, "pid"));
    if (!json_is_true(json_object_get(reply, "ok")) || pid <= 0 ||
        !json_string_value(json_object_get(result, "name")) ||
        strcmp(json_string_value(json_object_get(result, "name")), name) != 0) {
        check_fail(__FILE__, __LINE__, "app.start %s failed: %s", name, json_text(reply));
        pid = -1;
    }
    json_decref(reply);
    return pid;
}

void kill_test_app(int pid)
{
    if (pid > 0) {
        kill(-pid, SIGKILL);
    }
}

void check_app_exited(const json_t *msg, const char *name, int pid, int code, int signo,
                      const char *severity)
{
    char expected[256];
    char code_text[16] = "null";
    char signal_text[16] = "null";
    if (code >= 0) {
        snprintf(code_text, sizeof(code_text), "%d", code);
    }
    if (signo >= 0) {
        snprintf(signal_text, sizeof(signal_text), "%d", signo);
    }
    snprintf(expected, sizeof(expected),
             "{\"type\":\"app.exited\",\"name\":\"%s\",\"pid\":%d,\"code\":%s,\"signal\":%s,"
             "\"severity\":\"%s\"}",
             name, pid, code_text, signal_text, severity);
    CHECK_STR_EQ(json_text(msg), expected);
}

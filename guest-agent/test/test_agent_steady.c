/* Tests of the real binary in steady state: heartbeat period and flat memory under load. */
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "agent_harness.h"
#include "check.h"
#include "fixture_facts.h"
#include "supervised_root.h"

static void test_agent_keeps_heartbeat_period_while_answering(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    start_agent_on_pty(&agent, "50");
    json_t *hello = expect_message(&agent, "hello", LINE_TIMEOUT_MS);
    CHECK_INT_EQ(json_integer_value(json_object_get(hello, "heartbeatMs")), 50);
    json_decref(hello);
    long long start = now_ms();
    int beats = 0;
    int replies = 0;
    char line[LINE_MAX_BYTES + 1];
    while (now_ms() - start < 1000) {
        char sync[64];
        int len = snprintf(sync, sizeof(sync), "{\"type\":\"sync\",\"id\":%d,\"nonce\":\"x\"}\n",
                           replies + beats);
        CHECK(send_text(&agent, sync, (size_t)len));
        /* Read whatever arrives for 10 ms: replies and heartbeats interleave. */
        while (read_line(&agent, 10, line, sizeof(line)) >= 0) {
            json_t *msg = json_loads(line, 0, NULL);
            const char *type = json_string_value(json_object_get(msg, "type"));
            if (type && strcmp(type, "heartbeat") == 0) {
                beats++;
                CHECK_INT_EQ(json_integer_value(json_object_get(msg, "seq")), beats);
                CHECK_INT_EQ(json_integer_value(json_object_get(msg, "uptimeMs")), FIX_UPTIME_MS);
            } else {
                CHECK(json_is_true(json_object_get(msg, "ok")));
                replies++;
            }
            json_decref(msg);
        }
    }
    long long elapsed = now_ms() - start;
    /* 50 ms beats over ~1 s: about 20, whatever the request traffic. */
    CHECK(beats >= elapsed / 50 - 4 && beats <= elapsed / 50 + 1);
    CHECK(replies >= 30);
    if (check_failures > 0) {
        printf("    %d heartbeats and %d replies in %lld ms\n", beats, replies, elapsed);
    }
    check_clean_exit(&agent);
}

/* A field of /proc/PID/status in kB ("VmData", "VmRSS"), or -1. */
static long status_kb(pid_t pid, const char *field)
{
    char path[64];
    char line[256];
    long kb = -1;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *file = fopen(path, "r");
    while (file && fgets(line, sizeof(line), file)) {
        if (strncmp(line, field, strlen(field)) == 0 && line[strlen(field)] == ':') {
            kb = strtol(line + strlen(field) + 1, NULL, 10);
        }
    }
    if (file) {
        fclose(file);
    }
    return kb;
}

static void send_mixed_requests(struct agent_proc *agent, int count)
{
    static char too_long[LINE_MAX_BYTES + 100];
    memset(too_long, 'q', sizeof(too_long) - 1);
    const char *requests[] = {
        "{\"type\":\"sync\",\"id\":1,\"nonce\":\"x\"}", "{\"type\":\"mem.status\",\"id\":2}",
        "{bad", "[1]", "{\"type\":\"zz\",\"id\":3}", too_long,
    };
    for (int i = 0; i < count; i++) {
        const char *answer = request(agent, requests[i % 6]);
        if (strncmp(answer, "{\"type\":", 8) != 0) {
            check_fail(__FILE__, __LINE__, "request %d got: %s", i, answer);
            return;
        }
    }
}

static void test_agent_memory_stays_flat_under_load(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    start_agent_on_pty(&agent, "50");
    json_decref(expect_message(&agent, "hello", LINE_TIMEOUT_MS));
    send_mixed_requests(&agent, 600); /* warm up: the allocator settles on its arena */
    long data_before = status_kb(agent.pid, "VmData");
    long rss_before = status_kb(agent.pid, "VmRSS");
    send_mixed_requests(&agent, 6000);
    long data_after = status_kb(agent.pid, "VmData");
    long rss_after = status_kb(agent.pid, "VmRSS");
    CHECK(data_before > 0 && rss_before > 0);
    CHECK_INT_EQ(data_after, data_before);
    CHECK(rss_after - rss_before <= 16);
    check_clean_exit(&agent);
}

/* Starts apps that exit at once under ten names (more than the table's slots), and asks for the
 * list and a bad start in between. */
static void cycle_apps(struct agent_proc *agent, int count)
{
    for (int i = 0; i < count && check_failures == 0; i++) {
        char name[16];
        snprintf(name, sizeof(name), "cycle-%d", i % 10);
        start_test_app(agent, i, name, "\"exit\",\"0\"");
        json_decref(expect_message(agent, "app.exited", LINE_TIMEOUT_MS));
        const char *list = request(agent, "{\"type\":\"app.list\",\"id\":1}");
        CHECK(strncmp(list, "{\"type\":\"reply\",\"id\":1,\"ok\":true", 30) == 0);
        const char *bad = request(agent, "{\"type\":\"app.start\",\"id\":2,\"name\":\"x\"}");
        CHECK(strstr(bad, "\"code\":\"bad-request\"") != NULL);
    }
}

static void test_agent_memory_stays_flat_over_app_cycles(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    char root[PATH_MAX];
    make_app_root(&agent, root, false);
    start_app_agent(&agent, root, "0");
    cycle_apps(&agent, 60);
    long data_before = status_kb(agent.pid, "VmData");
    long rss_before = status_kb(agent.pid, "VmRSS");
    cycle_apps(&agent, 400);
    long data_after = status_kb(agent.pid, "VmData");
    long rss_after = status_kb(agent.pid, "VmRSS");
    CHECK(data_before > 0 && rss_before > 0);
    CHECK_INT_EQ(data_after, data_before);
    CHECK(rss_after - rss_before <= 16);
    check_clean_exit(&agent);
}

/* Health checks every 10 ms on a serving app, and supervised (cgroup, node) app cycles. */
static void test_agent_memory_stays_flat_over_health_checks(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    char root[PATH_MAX];
    make_supervised_root(&agent, root, false);
    start_app_agent(&agent, root, "0");
    int port = free_tcp_port();
    char args[64];
    snprintf(args, sizeof(args), "\"serve\",\"%d\"", port);
    char fields[128];
    snprintf(fields, sizeof(fields),
             ",\"health\":{\"port\":%d,\"intervalMs\":10,\"timeoutMs\":500}", port);
    int server = start_supervised_app(&agent, 1, "server", args, fields);
    expect_app_ready(&agent, "server", server);
    long data_before = 0;
    long rss_before = 0;
    int fds_before = count_open_fds(agent.pid);
    for (int i = 0; i < 300 && check_failures == 0; i++) {
        if (i == 50) {
            data_before = status_kb(agent.pid, "VmData");
            rss_before = status_kb(agent.pid, "VmRSS");
        }
        int pid = start_supervised_app(&agent, 2, "cycle", "\"exit\",\"0\",\"10\"",
                                       ",\"memoryBytes\":16777216,\"node\":0");
        expect_app_ready(&agent, "cycle", pid);
        json_decref(expect_message(&agent, "app.exited", LINE_TIMEOUT_MS));
    }
    long data_after = status_kb(agent.pid, "VmData");
    long rss_after = status_kb(agent.pid, "VmRSS");
    CHECK(data_before > 0 && rss_before > 0);
    CHECK_INT_EQ(data_after, data_before);
    CHECK(rss_after - rss_before <= 16);
    CHECK(count_open_fds(agent.pid) <= fds_before + 1); /* + a health check in progress */
    kill_test_app(server);
    check_clean_exit(&agent);
}

static void test_agent_clamps_heartbeat_option(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    start_agent_on_pty(&agent, "10");
    json_t *hello = expect_message(&agent, "hello", LINE_TIMEOUT_MS);
    CHECK_INT_EQ(json_integer_value(json_object_get(hello, "heartbeatMs")), HEARTBEAT_MIN_MS);
    json_decref(hello);
    check_clean_exit(&agent);
}

void register_agent_steady_tests(void)
{
    add_test("steady: keeps the heartbeat period while answering requests",
             test_agent_keeps_heartbeat_period_while_answering);
    add_test("steady: memory stays flat over 6000 mixed requests",
             test_agent_memory_stays_flat_under_load);
    add_test("steady: memory stays flat over 400 app start/exit cycles",
             test_agent_memory_stays_flat_over_app_cycles);
    add_test("steady: memory stays flat over health checks and 300 supervised app cycles",
             test_agent_memory_stays_flat_over_health_checks);
    add_test("steady: --heartbeat-ms is clamped to the protocol range",
             test_agent_clamps_heartbeat_option);
}

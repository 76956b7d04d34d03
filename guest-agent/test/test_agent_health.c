/* Tests of the real binary checking apps' health: PING/PONG, app.ready, hangs once it passed. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "agent_harness.h"
#include "check.h"
#include "supervised_root.h"

/* app.start of test-app with the given mode and health on port (intervalMs 100, timeoutMs
 * 200 unless fields say more); returns the pid from the reply. */
static int start_checked_app(struct agent_proc *agent, const char *name, const char *args,
                             int port, const char *more)
{
    char fields[256];
    snprintf(fields, sizeof(fields),
             ",\"health\":{\"port\":%d,\"intervalMs\":100,\"timeoutMs\":200%s}", port, more);
    return start_supervised_app(agent, 1, name, args, fields);
}

static void test_pong_sends_app_ready(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    char root[PATH_MAX];
    make_app_root(&agent, root, false);
    start_app_agent(&agent, root, "0");
    int port = free_tcp_port();
    char args[64];
    snprintf(args, sizeof(args), "\"serve\",\"%d\"", port);
    long long start = now_ms();
    int pid = start_checked_app(&agent, "kv", args, port, "");
    expect_app_ready(&agent, "kv", pid);
    long long elapsed = now_ms() - start;
    CHECK(elapsed >= 100 && elapsed < 1500); /* the first check comes one interval in */
    /* Further checks pass quietly: nothing but heartbeats for a while. */
    CHECK_STR_EQ(next_message_within(&agent, 500), "(nothing)");
    send_line(&agent, "{\"type\":\"app.stop\",\"id\":2,\"name\":\"kv\"}");
    json_t *exited = expect_message(&agent, "app.exited", LINE_TIMEOUT_MS);
    check_app_exited(exited, "kv", pid, -1, SIGTERM, "stopped");
    json_decref(exited);
    json_decref(expect_reply(&agent, 2));
    check_clean_exit(&agent);
}

/* Starts test-app serve on a free port as app "server" (no health check) and returns its pid;
 * the port goes to *port. */
static int start_server(struct agent_proc *agent, int *port)
{
    char args[64];
    *port = free_tcp_port();
    snprintf(args, sizeof(args), "\"serve\",\"%d\"", *port);
    return start_test_app(agent, 2, "server", args);
}

static void test_no_answer_after_a_pass_is_a_hang(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    char root[PATH_MAX];
    make_app_root(&agent, root, false);
    start_app_agent(&agent, root, "0");
    int port;
    int server = start_server(&agent, &port);
    int pid = start_checked_app(&agent, "mute", "\"wait\"", port, ",\"failuresToUnhealthy\":2");
    expect_app_ready(&agent, "mute", pid);
    /* A stopped server still accepts (the backlog) but never answers. */
    kill(server, SIGSTOP);
    long long start = now_ms();
    json_t *exited = expect_message(&agent, "app.exited", LINE_TIMEOUT_MS);
    long long elapsed = now_ms() - start;
    check_app_exited(exited, "mute", pid, -1, SIGKILL, "hang");
    json_decref(exited);
    /* Two checks: each starts one interval after the last began, and times out after 200 ms. */
    CHECK(elapsed >= 300 && elapsed < 1500);
    kill_test_app(server);
    check_clean_exit(&agent);
}

static void test_refused_connections_after_a_pass_are_a_hang_after_three(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    char root[PATH_MAX];
    make_app_root(&agent, root, false);
    start_app_agent(&agent, root, "0");
    int port;
    int server = start_server(&agent, &port);
    int pid = start_checked_app(&agent, "closed", "\"wait\"", port, "");
    expect_app_ready(&agent, "closed", pid);
    kill_test_app(server);
    long long start = now_ms();
    json_t *exited = expect_message(&agent, "app.exited", LINE_TIMEOUT_MS);
    check_app_exited(exited, "server", server, -1, SIGKILL, "killed");
    json_decref(exited);
    exited = expect_message(&agent, "app.exited", LINE_TIMEOUT_MS);
    long long elapsed = now_ms() - start;
    check_app_exited(exited, "closed", pid, -1, SIGKILL, "hang");
    json_decref(exited);
    CHECK(elapsed >= 200 && elapsed < 1200); /* the default: 3 failures, 100 ms apart */
    check_clean_exit(&agent);
}

static void test_failures_before_the_first_pass_do_not_count(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    char root[PATH_MAX];
    make_app_root(&agent, root, false);
    start_app_agent(&agent, root, "0");
    /* Refused every 100 ms with a limit of 1: a start the host's healthTimeoutMs governs. */
    int pid = start_checked_app(&agent, "slow", "\"wait\"", free_tcp_port(),
                                ",\"failuresToUnhealthy\":1");
    CHECK_STR_EQ(next_message_within(&agent, 800), "(nothing)");
    send_line(&agent, "{\"type\":\"app.stop\",\"id\":2,\"name\":\"slow\"}");
    json_t *exited = expect_message(&agent, "app.exited", LINE_TIMEOUT_MS);
    check_app_exited(exited, "slow", pid, -1, SIGTERM, "stopped");
    json_decref(exited);
    json_decref(expect_reply(&agent, 2));
    check_clean_exit(&agent);
}

static void test_fault_app_hang_stops_the_app_and_the_check_kills_it(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    char root[PATH_MAX];
    make_supervised_root(&agent, root, true);
    start_app_agent(&agent, root, "0");
    int port = free_tcp_port();
    char args[64];
    snprintf(args, sizeof(args), "\"serve\",\"%d\"", port);
    int pid = start_checked_app(&agent, "kv", args, port, "");
    expect_app_ready(&agent, "kv", pid);
    CHECK_STR_EQ(request(&agent, "{\"type\":\"fault.app-hang\",\"id\":2,\"name\":\"kv\"}"),
                 "{\"type\":\"reply\",\"id\":2,\"ok\":true,\"result\":{}}");
    json_t *exited = expect_message(&agent, "app.exited", LINE_TIMEOUT_MS);
    check_app_exited(exited, "kv", pid, -1, SIGKILL, "hang");
    json_decref(exited);
    check_clean_exit(&agent);
}

static void test_failures_below_the_limit_do_not_kill(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    char root[PATH_MAX];
    make_app_root(&agent, root, false);
    start_app_agent(&agent, root, "0");
    int port = free_tcp_port();
    char args[64];
    snprintf(args, sizeof(args), "\"serve\",\"%d\"", port);
    /* A server that comes up late: refused checks first, then PONG. */
    int pid = start_checked_app(&agent, "slow", "\"wait\"", port, ",\"failuresToUnhealthy\":5");
    sleep_ms(250);
    int server = start_test_app(&agent, 2, "server", args);
    expect_app_ready(&agent, "slow", pid);
    kill_test_app(pid);
    json_t *exited = expect_message(&agent, "app.exited", LINE_TIMEOUT_MS);
    check_app_exited(exited, "slow", pid, -1, SIGKILL, "killed");
    json_decref(exited);
    kill_test_app(server);
    check_clean_exit(&agent);
}

void register_agent_health_tests(void)
{
    add_test("health: PONG sends app.ready after one interval; app.stop is severity stopped",
             test_pong_sends_app_ready);
    add_test("health: no answer failuresToUnhealthy times after a pass: SIGKILL, severity hang",
             test_no_answer_after_a_pass_is_a_hang);
    add_test("health: refused connections after a pass count; the default is 3 failures",
             test_refused_connections_after_a_pass_are_a_hang_after_three);
    add_test("health: failures before the first pass are not counted: no hang, app.stop ends it",
             test_failures_before_the_first_pass_do_not_count);
    add_test("faults: fault.app-hang stops the app; its health check fails and it is a hang",
             test_fault_app_hang_stops_the_app_and_the_check_kills_it);
    add_test("health: failures below the limit do not kill; a later PONG sends app.ready",
             test_failures_below_the_limit_do_not_kill);
}

/* Tests of the real binary running apps: start, list, stop, exits, limits, reconnects. */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

#include "agent_harness.h"
#include "check.h"

static void test_app_start_list_and_stop_with_sigterm(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    char root[PATH_MAX];
    make_app_root(&agent, root, false);
    start_app_agent(&agent, root, "0");
    int pid = start_test_app(&agent, 1, "kv", "\"wait\"");
    char expected[256];
    snprintf(expected, sizeof(expected),
             "{\"type\":\"reply\",\"id\":2,\"ok\":true,\"result\":{\"apps\":[{\"name\":\"kv\","
             "\"pid\":%d,\"running\":true}]}}",
             pid);
    CHECK_STR_EQ(request(&agent, "{\"type\":\"app.list\",\"id\":2}"), expected);
    CHECK(kill(pid, 0) == 0);

    snprintf(expected, sizeof(expected),
             "{\"type\":\"app.exited\",\"name\":\"kv\",\"pid\":%d,\"code\":null,\"signal\":15,"
             "\"severity\":\"stopped\"}",
             pid);
    CHECK_STR_EQ(request(&agent, "{\"type\":\"app.stop\",\"id\":3,\"name\":\"kv\"}"), expected);
    CHECK_STR_EQ(next_message_text(&agent),
                 "{\"type\":\"reply\",\"id\":3,\"ok\":true,\"result\":{\"name\":\"kv\","
                 "\"code\":null,\"signal\":15}}");
    CHECK(kill(pid, 0) < 0); /* reaped */
    snprintf(expected, sizeof(expected),
             "{\"type\":\"reply\",\"id\":4,\"ok\":true,\"result\":{\"apps\":[{\"name\":\"kv\","
             "\"pid\":%d,\"running\":false}]}}",
             pid);
    CHECK_STR_EQ(request(&agent, "{\"type\":\"app.list\",\"id\":4}"), expected);
    check_clean_exit(&agent);
}

static void test_app_that_exits_is_reported_and_can_start_again(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    char root[PATH_MAX];
    make_app_root(&agent, root, false);
    start_app_agent(&agent, root, "0");
    int pid = start_test_app(&agent, 1, "batch", "\"exit\",\"7\"");
    json_t *exited = expect_message(&agent, "app.exited", LINE_TIMEOUT_MS);
    check_app_exited(exited, "batch", pid, 7, -1, "failed");
    json_decref(exited);
    CHECK_STR_EQ(request(&agent, "{\"type\":\"app.stop\",\"id\":2,\"name\":\"batch\"}"),
                 "{\"type\":\"reply\",\"id\":2,\"ok\":false,\"error\":{\"code\":\"not-running\","
                 "\"message\":\"app batch is not running\"}}");
    int again = start_test_app(&agent, 3, "batch", "\"exit\",\"0\"");
    exited = expect_message(&agent, "app.exited", LINE_TIMEOUT_MS);
    check_app_exited(exited, "batch", again, 0, -1, "clean");
    json_decref(exited);
    check_clean_exit(&agent);
}

static void test_app_exit_is_reported_without_waiting_for_a_heartbeat(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    char root[PATH_MAX];
    make_app_root(&agent, root, false);
    open_host_pty(&agent);
    const char *args[] = {"--port", agent.port_path, "--root", root, "--heartbeat-ms", "10000",
                          NULL};
    start_agent(&agent, args);
    json_decref(expect_message(&agent, "hello", LINE_TIMEOUT_MS));
    int pid = start_test_app(&agent, 1, "quick", "\"exit\",\"3\",\"100\"");
    long long start = now_ms();
    json_t *exited = expect_message(&agent, "app.exited", LINE_TIMEOUT_MS);
    check_app_exited(exited, "quick", pid, 3, -1, "failed");
    json_decref(exited);
    CHECK(now_ms() - start < 1000); /* SIGCHLD wakes the loop; no 10 s heartbeat wait */
    check_clean_exit(&agent);
}

static void test_app_stop_sends_sigkill_after_timeout(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    char root[PATH_MAX];
    make_app_root(&agent, root, false);
    start_app_agent(&agent, root, "0");
    int pid = start_test_app(&agent, 1, "stubborn", "\"wait-ignoring-term\"");
    sleep_ms(100); /* let it install SIG_IGN */
    long long start = now_ms();
    const char *stop = "{\"type\":\"app.stop\",\"id\":2,\"name\":\"stubborn\",\"timeoutMs\":300}\n";
    CHECK(send_text(&agent, stop, strlen(stop)));
    json_t *exited = expect_message(&agent, "app.exited", LINE_TIMEOUT_MS);
    long long elapsed = now_ms() - start;
    check_app_exited(exited, "stubborn", pid, -1, SIGKILL, "stopped");
    json_decref(exited);
    json_t *reply = expect_reply(&agent, 2);
    CHECK_INT_EQ(json_integer_value(json_object_get(json_object_get(reply, "result"), "signal")),
                 SIGKILL);
    json_decref(reply);
    CHECK(elapsed >= 300 && elapsed < 1500);
    check_clean_exit(&agent);
}

static void test_app_runs_in_own_group_with_dev_null_stdin(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    char root[PATH_MAX];
    make_app_root(&agent, root, false);
    start_app_agent(&agent, root, "0");
    int pid = start_test_app(&agent, 1, "env", "\"check-env\",\"an argument with spaces\"");
    json_t *exited = expect_message(&agent, "app.exited", LINE_TIMEOUT_MS);
    check_app_exited(exited, "env", pid, 0, -1, "clean"); /* see test/app/test_app.c for other codes */
    json_decref(exited);
    check_clean_exit(&agent);
}

static void test_app_start_failures(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    char root[PATH_MAX];
    make_app_root(&agent, root, false);
    start_app_agent(&agent, root, "0");
    CHECK_STR_EQ(
        request(&agent, "{\"type\":\"app.start\",\"id\":1,\"name\":\"ghost\","
                        "\"argv\":[\"/apps/missing\"]}"),
        "{\"type\":\"reply\",\"id\":1,\"ok\":false,\"error\":{\"code\":\"spawn-failed\","
        "\"message\":\"starting /apps/missing failed: No such file or directory\"}}");
    int pids[APPS_MAX];
    char name[16];
    for (int i = 0; i < APPS_MAX; i++) {
        snprintf(name, sizeof(name), "app-%d", i);
        pids[i] = start_test_app(&agent, 10 + i, name, "\"wait\"");
    }
    char expected[256];
    snprintf(expected, sizeof(expected),
             "{\"type\":\"reply\",\"id\":2,\"ok\":false,\"error\":{\"code\":\"already-running\","
             "\"message\":\"app app-0 is already running (pid %d)\"}}",
             pids[0]);
    CHECK_STR_EQ(request(&agent, "{\"type\":\"app.start\",\"id\":2,\"name\":\"app-0\","
                                 "\"argv\":[\"/apps/test-app\",\"wait\"]}"),
                 expected);
    CHECK_STR_EQ(request(&agent, "{\"type\":\"app.start\",\"id\":3,\"name\":\"one-more\","
                                 "\"argv\":[\"/apps/test-app\",\"wait\"]}"),
                 "{\"type\":\"reply\",\"id\":3,\"ok\":false,\"error\":{\"code\":\"too-many-apps\","
                 "\"message\":\"app one-more: all 8 app slots are in use\"}}");
    for (int i = 0; i < APPS_MAX; i++) {
        kill_test_app(pids[i]);
    }
    check_clean_exit(&agent);
}

static void test_app_exited_waits_for_the_host_to_reconnect(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    char root[PATH_MAX];
    make_app_root(&agent, root, false);
    listen_host_socket(&agent);
    const char *args[] = {"--port", agent.port_path, "--root", root, "--heartbeat-ms", "50",
                          NULL};
    start_agent(&agent, args);
    CHECK(accept_agent(&agent, LINE_TIMEOUT_MS));
    json_decref(expect_message(&agent, "hello", LINE_TIMEOUT_MS));
    int pid = start_test_app(&agent, 1, "late", "\"exit\",\"5\",\"200\"");
    close_host(&agent);
    sleep_ms(500); /* it exits while nobody listens */
    CHECK(accept_agent(&agent, LINE_TIMEOUT_MS));
    char line[LINE_MAX_BYTES + 1];
    CHECK(read_line(&agent, LINE_TIMEOUT_MS, line, sizeof(line)) > 0);
    CHECK(strncmp(line, "{\"type\":\"hello\"", 15) == 0);
    json_t *exited = expect_message(&agent, "app.exited", LINE_TIMEOUT_MS);
    check_app_exited(exited, "late", pid, 5, -1, "failed");
    json_decref(exited);
    /* Delivered once: a second reconnect brings only hello. */
    close_host(&agent);
    CHECK(accept_agent(&agent, LINE_TIMEOUT_MS));
    json_decref(expect_message(&agent, "hello", LINE_TIMEOUT_MS));
    CHECK_STR_EQ(request(&agent, "{\"type\":\"sync\",\"id\":2,\"nonce\":\"n\"}"),
                 "{\"type\":\"reply\",\"id\":2,\"ok\":true,\"result\":{\"nonce\":\"n\"}}");
    check_clean_exit(&agent);
}

void register_agent_app_tests(void)
{
    add_test("apps: app.start, app.list, and app.stop with SIGTERM, app.exited before the reply",
             test_app_start_list_and_stop_with_sigterm);
    add_test("apps: an app that exits by itself gets app.exited with its code and can restart",
             test_app_that_exits_is_reported_and_can_start_again);
    add_test("apps: an exit is reported at once, not at the next heartbeat",
             test_app_exit_is_reported_without_waiting_for_a_heartbeat);
    add_test("apps: app.stop sends SIGKILL after timeoutMs when SIGTERM is ignored",
             test_app_stop_sends_sigkill_after_timeout);
    add_test("apps: an app runs in its own process group, stdin /dev/null, argv as given",
             test_app_runs_in_own_group_with_dev_null_stdin);
    add_test("apps: spawn-failed, already-running and too-many-apps",
             test_app_start_failures);
    add_test("apps: app.exited is kept while the host is away and sent once after hello",
             test_app_exited_waits_for_the_host_to_reconnect);
}

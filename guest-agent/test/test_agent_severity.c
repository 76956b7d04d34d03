/* Tests of the real binary judging exits (severity) and injecting app faults and fault.hang. */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_harness.h"
#include "check.h"
#include "supervised_root.h"

#define FAULT_OK(id) "{\"type\":\"reply\",\"id\":" #id ",\"ok\":true,\"result\":{}}"

static void expect_exit(struct agent_proc *agent, const char *name, int pid, int code, int signo,
                        const char *severity)
{
    json_t *exited = expect_message(agent, "app.exited", LINE_TIMEOUT_MS);
    check_app_exited(exited, name, pid, code, signo, severity);
    json_decref(exited);
}

static void test_signals_from_outside(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    char root[PATH_MAX];
    make_app_root(&agent, root, false);
    start_app_agent(&agent, root, "0");
    int pid = start_test_app(&agent, 1, "segv", "\"wait\"");
    CHECK(kill(pid, SIGSEGV) == 0);
    expect_exit(&agent, "segv", pid, -1, SIGSEGV, "crashed");
    pid = start_test_app(&agent, 2, "abrt", "\"wait\"");
    CHECK(kill(pid, SIGABRT) == 0);
    expect_exit(&agent, "abrt", pid, -1, SIGABRT, "crashed");
    pid = start_test_app(&agent, 3, "nine", "\"wait\"");
    CHECK(kill(pid, SIGKILL) == 0);
    expect_exit(&agent, "nine", pid, -1, SIGKILL, "killed");
    pid = start_test_app(&agent, 4, "term", "\"wait\"");
    CHECK(kill(pid, SIGTERM) == 0);
    expect_exit(&agent, "term", pid, -1, SIGTERM, "killed");
    check_clean_exit(&agent);
}

static void test_oom_kill_count_that_rose_is_oom(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    char root[PATH_MAX];
    make_supervised_root(&agent, root, false);
    /* An earlier app of the same name left a kill behind: only a rise counts. */
    make_root_dirs(root, "/sys/fs/cgroup/baton/big");
    write_root_file(root, "/sys/fs/cgroup/baton/big/memory.events", "oom 2\noom_kill 1\n");
    start_app_agent(&agent, root, "0");
    int pid = start_supervised_app(&agent, 1, "big", "\"exit\",\"0\",\"300\"",
                                   ",\"memoryBytes\":67108864");
    expect_app_ready(&agent, "big", pid);
    expect_exit(&agent, "big", pid, 0, -1, "clean");
    pid = start_supervised_app(&agent, 2, "big", "\"wait\"", ",\"memoryBytes\":67108864");
    expect_app_ready(&agent, "big", pid);
    write_root_file(root, "/sys/fs/cgroup/baton/big/memory.events", "oom 3\noom_kill 2\n");
    CHECK(kill(pid, SIGKILL) == 0);
    expect_exit(&agent, "big", pid, -1, SIGKILL, "oom");
    check_clean_exit(&agent);
}

static void test_app_faults(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    char root[PATH_MAX];
    make_supervised_root(&agent, root, true);
    start_app_agent(&agent, root, "0");
    int pid = start_test_app(&agent, 1, "kv", "\"wait\"");
    CHECK_STR_EQ(request(&agent, "{\"type\":\"fault.app-crash\",\"id\":2,\"name\":\"kv\"}"),
                 FAULT_OK(2));
    expect_exit(&agent, "kv", pid, -1, SIGSEGV, "crashed");
    pid = start_test_app(&agent, 3, "kv", "\"term-exits\",\"0\"");
    sleep_ms(100); /* let it install its handler */
    CHECK_STR_EQ(request(&agent, "{\"type\":\"fault.app-fail\",\"id\":4,\"name\":\"kv\"}"),
                 FAULT_OK(4));
    expect_exit(&agent, "kv", pid, 0, -1, "clean");
    pid = start_test_app(&agent, 5, "kv", "\"term-exits\",\"4\"");
    sleep_ms(100);
    CHECK_STR_EQ(request(&agent, "{\"type\":\"fault.app-fail\",\"id\":6,\"name\":\"kv\"}"),
                 FAULT_OK(6));
    expect_exit(&agent, "kv", pid, 4, -1, "failed");
    /* Without a health check a stopped app just stays stopped; app.stop still ends it. */
    pid = start_test_app(&agent, 7, "kv", "\"wait\"");
    CHECK_STR_EQ(request(&agent, "{\"type\":\"fault.app-hang\",\"id\":8,\"name\":\"kv\"}"),
                 FAULT_OK(8));
    CHECK_STR_EQ(next_message_within(&agent, 300), "(nothing)");
    send_line(&agent, "{\"type\":\"app.stop\",\"id\":9,\"name\":\"kv\",\"timeoutMs\":100}");
    expect_exit(&agent, "kv", pid, -1, SIGKILL, "stopped");
    json_decref(expect_reply(&agent, 9));
    CHECK_STR_EQ(request(&agent, "{\"type\":\"fault.app-crash\",\"id\":10,\"name\":\"kv\"}"),
                 "{\"type\":\"reply\",\"id\":10,\"ok\":false,\"error\":{\"code\":\"not-running\","
                 "\"message\":\"app kv is not running\"}}");
    check_clean_exit(&agent);
}

static void test_fault_hang_writes_freeze(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    char root[PATH_MAX];
    make_supervised_root(&agent, root, true);
    start_app_agent(&agent, root, "0");
    CHECK_STR_EQ(request(&agent, "{\"type\":\"fault.hang\",\"id\":1}"), FAULT_OK(1));
    const char *state = "";
    for (int i = 0; i < 100 && strcmp(state, "freeze") != 0; i++) {
        sleep_ms(10);
        state = read_root_file(root, "/sys/power/state");
    }
    CHECK_STR_EQ(state, "freeze");
    /* A fixture file takes the write and the agent runs on; a guest would be frozen. */
    kill(agent.pid, SIGKILL);
    CHECK(WIFSIGNALED(wait_agent_exit(&agent, LINE_TIMEOUT_MS)));
    stop_agent(&agent);
}

static void test_fault_hang_blocks_when_freeze_fails(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    char root[PATH_MAX];
    make_supervised_root(&agent, root, true);
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/sys/power/state", root);
    CHECK(unlink(path) == 0);
    start_app_agent(&agent, root, "0");
    CHECK_STR_EQ(request(&agent, "{\"type\":\"fault.hang\",\"id\":1}"), FAULT_OK(1));
    sleep_ms(200); /* the 100 ms delay, then the failed write */
    char line[LINE_MAX_BYTES + 1];
    while (read_line(&agent, 0, line, sizeof(line)) >= 0) { /* beats sent before the block */
    }
    CHECK(read_line(&agent, 500, line, sizeof(line)) < 0); /* no heartbeat for 10 periods */
    send_line(&agent, "{\"type\":\"sync\",\"id\":2,\"nonce\":\"n\"}");
    CHECK(read_line(&agent, 300, line, sizeof(line)) < 0);
    kill(agent.pid, SIGTERM);
    sleep_ms(200);
    CHECK(waitpid(agent.pid, NULL, WNOHANG) == 0); /* blocked for good; SIGTERM does not help */
    kill(agent.pid, SIGKILL);
    CHECK(WIFSIGNALED(wait_agent_exit(&agent, LINE_TIMEOUT_MS)));
    stop_agent(&agent);
}

void register_agent_severity_tests(void)
{
    add_test("severity: SIGSEGV and SIGABRT are crashed, SIGKILL and SIGTERM from outside killed",
             test_signals_from_outside);
    add_test("severity: a rise of memory.events oom_kill is oom",
             test_oom_kill_count_that_rose_is_oom);
    add_test("faults: fault.app-crash is crashed, fault.app-fail clean or failed, fault.app-hang "
             "stops",
             test_app_faults);
    add_test("faults: fault.hang replies {} and writes freeze to /sys/power/state",
             test_fault_hang_writes_freeze);
    add_test("faults: fault.hang without /sys/power/state blocks: no heartbeats, no answers, no exit",
             test_fault_hang_blocks_when_freeze_fails);
}

/* Tests of the real binary killing what an app leaves in its cgroup before it reports the exit:
 * a child that left the app's process group (setsid, like PostgreSQL's backends). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_harness.h"
#include "check.h"
#include "supervised_root.h"

#define KV_PROCS "/sys/fs/cgroup/baton/kv/cgroup.procs"
#define LEFTOVER_WAIT_MS 2000

/* Starts test-app leave-child in a group of its own (memoryBytes) and returns the pid of the
 * child it left in the group's cgroup.procs (0 when it never appeared). */
static int start_with_leftover(struct agent_proc *agent, const char *root, int *pid)
{
    char args[PATH_MAX + 32];
    snprintf(args, sizeof(args), "\"leave-child\",\"%s" KV_PROCS "\"", root);
    *pid = start_supervised_app(agent, 1, "kv", args, ",\"memoryBytes\":268435456");
    expect_app_ready(agent, "kv", *pid);
    for (long long start = now_ms(); now_ms() - start < LEFTOVER_WAIT_MS; sleep_ms(20)) {
        int main_pid = 0;
        int child = 0;
        if (sscanf(read_root_file(root, KV_PROCS), "%d %d", &main_pid, &child) == 2) {
            return child;
        }
    }
    return 0;
}

static bool is_alive(int pid)
{
    return kill(pid, 0) == 0 || errno != ESRCH;
}

static void test_crash_kills_the_leftover_before_app_exited(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    char root[PATH_MAX];
    make_supervised_root(&agent, root, true);
    start_app_agent(&agent, root, "0");
    int pid;
    int child = start_with_leftover(&agent, root, &pid);
    CHECK(child > 0 && is_alive(child));
    CHECK_STR_EQ(request(&agent, "{\"type\":\"fault.app-crash\",\"id\":2,\"name\":\"kv\"}"),
                 "{\"type\":\"reply\",\"id\":2,\"ok\":true,\"result\":{}}");
    json_t *exited = expect_message(&agent, "app.exited", LINE_TIMEOUT_MS);
    check_app_exited(exited, "kv", pid, -1, SIGSEGV, "crashed");
    json_decref(exited);
    /* Killed, and reaped by the agent (its subreaper) before app.exited went out. */
    CHECK(!is_alive(child));
    if (is_alive(child)) {
        kill(child, SIGKILL);
    }
    check_clean_exit(&agent);
}

static void test_stop_kills_the_leftover_before_its_reply(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    char root[PATH_MAX];
    make_supervised_root(&agent, root, false);
    start_app_agent(&agent, root, "0");
    int pid;
    int child = start_with_leftover(&agent, root, &pid);
    CHECK(child > 0 && is_alive(child));
    /* SIGTERM reaches the app's process group only; the leftover is killed after the exit. */
    send_line(&agent, "{\"type\":\"app.stop\",\"id\":2,\"name\":\"kv\"}");
    json_t *exited = expect_message(&agent, "app.exited", LINE_TIMEOUT_MS);
    check_app_exited(exited, "kv", pid, -1, SIGTERM, "stopped");
    json_decref(exited);
    json_decref(expect_reply(&agent, 2));
    CHECK(!is_alive(child));
    if (is_alive(child)) {
        kill(child, SIGKILL);
    }
    check_clean_exit(&agent);
}

void register_agent_leftover_tests(void)
{
    add_test("leftovers: an app crash kills the child left in its cgroup before app.exited",
             test_crash_kills_the_leftover_before_app_exited);
    add_test("leftovers: app.stop kills the child left in its cgroup before its reply",
             test_stop_kills_the_leftover_before_its_reply);
}

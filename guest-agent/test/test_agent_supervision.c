/* Tests of the real binary placing apps: cgroup files, NUMA binding, mem.request/mem.answer. */
#include <stdio.h>
#include <unistd.h>

#include "agent_harness.h"
#include "check.h"
#include "supervised_root.h"

#define KV_GROUP "/sys/fs/cgroup/baton/kv"
/* 600 MiB + 1 byte against a 512 MiB node: 88 MiB + 1 short, asked as 90 MiB. */
#define BIG_START                                                                            \
    "{\"type\":\"app.start\",\"id\":1,\"name\":\"kv\",\"argv\":[\"/apps/test-app\",\"wait\"]," \
    "\"memoryBytes\":629145601,\"node\":0}"
#define BIG_REQUEST "{\"type\":\"mem.request\",\"app\":\"kv\",\"bytes\":94371840}"
#define SMALL_NODE_KB (512LL * 1024)

static void test_cgroup_files_and_node_binding(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    char root[PATH_MAX];
    make_supervised_root(&agent, root, false);
    start_app_agent(&agent, root, "0");
    int pid = start_supervised_app(&agent, 1, "kv", "\"check-node\",\"0\"",
                                   ",\"memoryBytes\":268435456,\"node\":0");
    expect_app_ready(&agent, "kv", pid);
    json_t *exited = expect_message(&agent, "app.exited", LINE_TIMEOUT_MS);
    check_app_exited(exited, "kv", pid, 0, -1, "clean"); /* 8: not bound to node 0 */
    json_decref(exited);
    CHECK_STR_EQ(read_root_file(root, "/sys/fs/cgroup/cgroup.subtree_control"),
                 "+memory +cpuset");
    CHECK_STR_EQ(read_root_file(root, "/sys/fs/cgroup/baton/cgroup.subtree_control"),
                 "+memory +cpuset");
    CHECK_STR_EQ(read_root_file(root, KV_GROUP "/memory.max"), "268435456");
    CHECK_STR_EQ(read_root_file(root, KV_GROUP "/cpuset.mems"), "(missing)"); /* see cgroup.c */
    char pid_text[16];
    snprintf(pid_text, sizeof(pid_text), "%d", pid);
    CHECK_STR_EQ(read_root_file(root, KV_GROUP "/cgroup.procs"), pid_text);

    /* Without node: a limit, no cpuset.mems, no binding. */
    pid = start_supervised_app(&agent, 2, "other", "\"check-node\",\"0\"",
                               ",\"memoryBytes\":1048576");
    expect_app_ready(&agent, "other", pid);
    exited = expect_message(&agent, "app.exited", LINE_TIMEOUT_MS);
    check_app_exited(exited, "other", pid, 8, -1, "failed");
    json_decref(exited);
    CHECK_STR_EQ(read_root_file(root, "/sys/fs/cgroup/baton/other/memory.max"), "1048576");
    CHECK_STR_EQ(read_root_file(root, "/sys/fs/cgroup/baton/other/cpuset.mems"), "(missing)");
    check_clean_exit(&agent);
}

static void test_node_failures(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    char root[PATH_MAX];
    make_supervised_root(&agent, root, false);
    start_app_agent(&agent, root, "0");
    CHECK_STR_EQ(request(&agent, "{\"type\":\"app.start\",\"id\":1,\"name\":\"kv\",\"argv\":["
                                 "\"/apps/test-app\",\"wait\"],\"node\":5}"),
                 "{\"type\":\"reply\",\"id\":1,\"ok\":false,\"error\":{\"code\":\"bad-request\","
                 "\"message\":\"node 5 does not exist (no /sys/devices/system/node/node5/"
                 "meminfo)\"}}");
    /* A node the fixture has and the host does not: the child's set_mempolicy fails. */
    write_node_meminfo(root, 1023, FIX_NODE0_KB);
    CHECK_STR_EQ(request(&agent, "{\"type\":\"app.start\",\"id\":2,\"name\":\"kv\",\"argv\":["
                                 "\"/apps/test-app\",\"wait\"],\"node\":1023}"),
                 "{\"type\":\"reply\",\"id\":2,\"ok\":false,\"error\":{\"code\":\"spawn-failed\","
                 "\"message\":\"starting /apps/test-app failed: binding its memory to node "
                 "1023: Invalid argument\"}}");
    /* No cgroup v2 to write to: neither +memory +cpuset nor +memory goes in. */
    char path[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/sys/fs/cgroup/cgroup.subtree_control", root);
    unlink(path); /* written by the start above */
    make_root_dirs(root, "/sys/fs/cgroup/cgroup.subtree_control");
    CHECK_STR_EQ(request(&agent, "{\"type\":\"app.start\",\"id\":3,\"name\":\"kv\",\"argv\":["
                                 "\"/apps/test-app\",\"wait\"],\"memoryBytes\":1048576}"),
                 "{\"type\":\"reply\",\"id\":3,\"ok\":false,\"error\":{\"code\":\"spawn-failed\","
                 "\"message\":\"starting /apps/test-app failed: enabling the memory controller "
                 "in /sys/fs/cgroup/cgroup.subtree_control failed: Is a directory\"}}");
    CHECK_STR_EQ(request(&agent, "{\"type\":\"app.list\",\"id\":4}"),
                 "{\"type\":\"reply\",\"id\":4,\"ok\":true,\"result\":{\"apps\":[]}}");
    check_clean_exit(&agent);
}

static void test_mem_request_granted_then_node_grows(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    char root[PATH_MAX];
    make_supervised_root(&agent, root, false);
    write_node_meminfo(root, 0, SMALL_NODE_KB);
    start_app_agent(&agent, root, "0");
    CHECK_STR_EQ(request(&agent, BIG_START), BIG_REQUEST);
    CHECK_STR_EQ(request(&agent, "{\"type\":\"app.list\",\"id\":2}"),
                 "{\"type\":\"reply\",\"id\":2,\"ok\":true,\"result\":{\"apps\":[]}}");
    CHECK(strstr(request(&agent, "{\"type\":\"app.start\",\"id\":3,\"name\":\"kv\",\"argv\":["
                                 "\"/apps/test-app\",\"wait\"]}"),
                 "\"message\":\"app kv is already starting\"") != NULL);
    /* Heartbeats go on while the host decides. */
    json_decref(expect_message(&agent, "heartbeat", LINE_TIMEOUT_MS));
    CHECK_STR_EQ(request(&agent, "{\"type\":\"mem.answer\",\"id\":4,\"app\":\"kv\","
                                 "\"granted\":true}"),
                 "{\"type\":\"reply\",\"id\":4,\"ok\":true,\"result\":{}}");
    CHECK_STR_EQ(next_message_within(&agent, 300), "(nothing)"); /* still too small */
    write_node_meminfo(root, 0, 1024LL * 1024);
    json_t *reply = expect_reply(&agent, 1);
    int pid = (int)json_integer_value(json_object_get(json_object_get(reply, "result"), "pid"));
    CHECK(json_is_true(json_object_get(reply, "ok")) && pid > 0);
    json_decref(reply);
    expect_app_ready(&agent, "kv", pid);
    CHECK_STR_EQ(read_root_file(root, KV_GROUP "/memory.max"), "629145601");
    kill_test_app(pid);
    check_clean_exit(&agent);
}

static void test_mem_request_refused(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    char root[PATH_MAX];
    make_supervised_root(&agent, root, false);
    write_node_meminfo(root, 0, SMALL_NODE_KB);
    start_app_agent(&agent, root, "0");
    CHECK_STR_EQ(request(&agent, BIG_START), BIG_REQUEST);
    CHECK_STR_EQ(request(&agent, "{\"type\":\"mem.answer\",\"id\":2,\"app\":\"kv\","
                                 "\"granted\":false,\"reason\":\"host has 64 MiB free\"}"),
                 "{\"type\":\"reply\",\"id\":2,\"ok\":true,\"result\":{}}");
    CHECK_STR_EQ(next_message_text(&agent),
                 "{\"type\":\"reply\",\"id\":1,\"ok\":false,\"error\":{\"code\":"
                 "\"memory-refused\",\"message\":\"host has 64 MiB free\"}}");
    /* The slot is free again: the same start asks again. */
    CHECK_STR_EQ(request(&agent, BIG_START), BIG_REQUEST);
    check_clean_exit(&agent);
}

/* A memory-less node is offline (no meminfo) until memory is plugged into it: it counts as empty. */
static void test_offline_node_asks_for_all_its_memory(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    char root[PATH_MAX];
    make_supervised_root(&agent, root, false);
    start_app_agent(&agent, root, "0");
    CHECK_STR_EQ(request(&agent, "{\"type\":\"app.start\",\"id\":1,\"name\":\"kv\",\"argv\":["
                                 "\"/apps/test-app\",\"wait\"],\"memoryBytes\":33554432,\"node\":6}"),
                 "{\"type\":\"mem.request\",\"app\":\"kv\",\"bytes\":33554432}");
    check_clean_exit(&agent);
}

static void test_mem_grant_that_never_arrives(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    char root[PATH_MAX];
    make_supervised_root(&agent, root, false);
    write_node_meminfo(root, 0, SMALL_NODE_KB);
    start_app_agent(&agent, root, "0");
    CHECK_STR_EQ(request(&agent, BIG_START), BIG_REQUEST);
    long long start = now_ms();
    CHECK_STR_EQ(request(&agent, "{\"type\":\"mem.answer\",\"id\":2,\"app\":\"kv\","
                                 "\"granted\":true}"),
                 "{\"type\":\"reply\",\"id\":2,\"ok\":true,\"result\":{}}");
    CHECK_STR_EQ(next_message_within(&agent, 7000),
                 "{\"type\":\"reply\",\"id\":1,\"ok\":false,\"error\":{\"code\":"
                 "\"memory-refused\",\"message\":\"node 0 has 536870912 bytes, less than "
                 "memoryBytes 629145601, 5000 ms after the host granted 94371840 bytes\"}}");
    long long elapsed = now_ms() - start;
    CHECK(elapsed >= 5000 && elapsed < 6500);
    check_clean_exit(&agent);
}

static void test_lost_link_drops_a_start_waiting_for_memory(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    char root[PATH_MAX];
    make_supervised_root(&agent, root, false);
    write_node_meminfo(root, 0, SMALL_NODE_KB);
    listen_host_socket(&agent);
    const char *args[] = {"--port", agent.port_path, "--root", root, "--heartbeat-ms", "50",
                          NULL};
    start_agent(&agent, args);
    CHECK(accept_agent(&agent, LINE_TIMEOUT_MS));
    json_decref(expect_message(&agent, "hello", LINE_TIMEOUT_MS));
    CHECK_STR_EQ(request(&agent, BIG_START), BIG_REQUEST);
    close_host(&agent);
    CHECK(accept_agent(&agent, LINE_TIMEOUT_MS));
    json_decref(expect_message(&agent, "hello", LINE_TIMEOUT_MS));
    CHECK_STR_EQ(request(&agent, "{\"type\":\"mem.answer\",\"id\":2,\"app\":\"kv\","
                                 "\"granted\":true}"),
                 "{\"type\":\"reply\",\"id\":2,\"ok\":false,\"error\":{\"code\":\"bad-request\","
                 "\"message\":\"app kv has no pending mem.request\"}}");
    CHECK_STR_EQ(request(&agent, BIG_START), BIG_REQUEST);
    check_clean_exit(&agent);
}

void register_agent_supervision_tests(void)
{
    add_test("supervision: memory.max and cgroup.procs written, no cpuset.mems; memory bound to "
             "the node",
             test_cgroup_files_and_node_binding);
    add_test("supervision: a missing node is bad-request; failed binding or cgroup setup spawn-failed",
             test_node_failures);
    add_test("supervision: mem.request for a small node; granted, the start waits for the node "
             "to grow",
             test_mem_request_granted_then_node_grows);
    add_test("supervision: a refused mem.answer fails the start with memory-refused",
             test_mem_request_refused);
    add_test("supervision: an offline node with memoryBytes asks for all of it",
             test_offline_node_asks_for_all_its_memory);
    add_test("supervision: a granted node that does not grow in 5 s is memory-refused",
             test_mem_grant_that_never_arrives);
    add_test("supervision: a start waiting for mem.answer is dropped when the host goes away",
             test_lost_link_drops_a_start_waiting_for_memory);
}

/* In-process tests of the agent's start-up placement: delegated cgroup choice and memory auto-online. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cgroup.h"
#include "check.h"
#include "supervised_root.h"
#include "sysinfo.h"

#define UNIT_PATH "/system.slice/baton-agent.service"
#define UNIT_DIR "/sys/fs/cgroup" UNIT_PATH

static void make_scratch_root(char *root, size_t cap)
{
    snprintf(root, cap, "/tmp/baton-cgroup-base-XXXXXX");
    CHECK(mkdtemp(root) != NULL);
    make_root_dirs(root, "/proc/self");
    make_root_dirs(root, UNIT_DIR);
}

static void test_parse_own_cgroup(void)
{
    char out[256];
    CHECK_INT_EQ(parse_own_cgroup("0::" UNIT_PATH "\n", out, sizeof(out)), 0);
    CHECK_STR_EQ(out, UNIT_PATH);
    CHECK_INT_EQ(parse_own_cgroup("12:memory:/x\n1:name=systemd:/y\n0::/\n", out, sizeof(out)), 0);
    CHECK_STR_EQ(out, "/");
    CHECK_INT_EQ(parse_own_cgroup("12:memory:/x\n", out, sizeof(out)), -ENOENT);
    CHECK_INT_EQ(parse_own_cgroup("0::relative\n", out, sizeof(out)), -EINVAL);
    CHECK_INT_EQ(parse_own_cgroup("0::/a/../b\n", out, sizeof(out)), -EINVAL);
    CHECK_INT_EQ(parse_own_cgroup("0::/a/..\n", out, sizeof(out)), -EINVAL);
    CHECK_INT_EQ(parse_own_cgroup("0::/a//b\n", out, sizeof(out)), -EINVAL);
    CHECK_INT_EQ(parse_own_cgroup("0::\n", out, sizeof(out)), -EINVAL);
    CHECK_INT_EQ(parse_own_cgroup("0::/abcdef\n", out, 4), -EINVAL);
}

static void test_delegated_cgroup_holds_agent_and_apps(void)
{
    static struct app_spec spec = {.name = "kv", .has_memory = true, .memory_bytes = 4096};
    char root[PATH_MAX];
    char pid_text[24];
    make_scratch_root(root, sizeof(root));
    write_root_file(root, "/proc/self/cgroup", "0::" UNIT_PATH "\n");
    snprintf(pid_text, sizeof(pid_text), "%ld\n", (long)getpid());
    write_root_file(root, UNIT_DIR "/cgroup.procs", pid_text);
    CHECK(cgroup_choose_base(root));
    snprintf(pid_text, sizeof(pid_text), "%ld", (long)getpid());
    CHECK_STR_EQ(read_root_file(root, UNIT_DIR "/agent/cgroup.procs"), pid_text);
    CHECK_STR_EQ(cgroup_apps_parent_dir(), UNIT_DIR);
    CHECK_STR_EQ(cgroup_apps_dir(), UNIT_DIR "/apps");

    struct cgroup_setup setup;
    char err[256] = "";
    CHECK_INT_EQ(cgroup_prepare(root, &spec, &setup, err, sizeof(err)), 0);
    CHECK_STR_EQ(err, "");
    close(setup.procs_fd);
    CHECK_STR_EQ(read_root_file(root, UNIT_DIR "/cgroup.subtree_control"), "+memory +cpuset");
    CHECK_STR_EQ(read_root_file(root, UNIT_DIR "/apps/cgroup.subtree_control"), "+memory +cpuset");
    CHECK_STR_EQ(read_root_file(root, UNIT_DIR "/apps/kv/memory.max"), "4096");
    CHECK_STR_EQ(read_root_file(root, "/sys/fs/cgroup/cgroup.subtree_control"), "(missing)");
    remove_tree(root);
}

static void check_keeps_default(const char *cgroup_line, const char *procs)
{
    char root[PATH_MAX];
    make_scratch_root(root, sizeof(root));
    write_root_file(root, "/proc/self/cgroup", cgroup_line);
    write_root_file(root, UNIT_DIR "/cgroup.procs", procs);
    CHECK(!cgroup_choose_base(root));
    CHECK_STR_EQ(cgroup_apps_parent_dir(), "/sys/fs/cgroup");
    CHECK_STR_EQ(cgroup_apps_dir(), "/sys/fs/cgroup/baton");
    CHECK_STR_EQ(read_root_file(root, UNIT_DIR "/agent/cgroup.procs"), "(missing)");
    remove_tree(root);
}

static void test_root_cgroup_keeps_baton_dir(void)
{
    check_keeps_default("0::/\n", "");
}

static void test_shared_cgroup_keeps_baton_dir(void)
{
    char procs[48];
    snprintf(procs, sizeof(procs), "1\n%ld\n", (long)getpid());
    check_keeps_default("0::" UNIT_PATH "\n", procs);
}

static void test_no_cgroup_file_keeps_baton_dir(void)
{
    char root[PATH_MAX];
    make_scratch_root(root, sizeof(root));
    CHECK(!cgroup_choose_base(root));
    CHECK_STR_EQ(cgroup_apps_dir(), "/sys/fs/cgroup/baton");
    remove_tree(root);
}

static void test_memory_auto_online(void)
{
    char root[PATH_MAX];
    const char *file = "/sys/devices/system/memory/auto_online_blocks";
    make_scratch_root(root, sizeof(root));
    CHECK_INT_EQ(ensure_memory_auto_online(root), -ENOENT);
    make_root_dirs(root, "/sys/devices/system/memory");
    write_root_file(root, file, "offline\n");
    CHECK_INT_EQ(ensure_memory_auto_online(root), 1);
    CHECK_STR_EQ(read_root_file(root, file), "online_movable");
    write_root_file(root, file, "online\n");
    CHECK_INT_EQ(ensure_memory_auto_online(root), 0);
    CHECK_STR_EQ(read_root_file(root, file), "online\n");
    remove_tree(root);
}

void register_cgroup_base_tests(void)
{
    add_test("cgroup base: parses the cgroup v2 line of /proc/self/cgroup", test_parse_own_cgroup);
    add_test("cgroup base: a delegated cgroup holds <own>/agent and apps in <own>/apps/<name>",
             test_delegated_cgroup_holds_agent_and_apps);
    add_test("cgroup base: the root cgroup keeps /sys/fs/cgroup/baton",
             test_root_cgroup_keeps_baton_dir);
    add_test("cgroup base: a cgroup shared with other processes keeps /sys/fs/cgroup/baton",
             test_shared_cgroup_keeps_baton_dir);
    add_test("cgroup base: no /proc/self/cgroup keeps /sys/fs/cgroup/baton",
             test_no_cgroup_file_keeps_baton_dir);
    add_test("memory auto-online: offline becomes online_movable, anything else is left",
             test_memory_auto_online);
}

/* In-process tests of killing what an app left in its cgroup (cgroup_kill_leftovers). */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "check.h"
#include "supervised_root.h"

/* A fixture root with an empty group for app "kv" where cgroup_apps_dir() says. */
static void make_group_root(char *root, size_t cap, char *group, size_t group_cap)
{
    snprintf(root, cap, "/tmp/baton-cgroup-kill-XXXXXX");
    CHECK(mkdtemp(root) != NULL);
    snprintf(group, group_cap, "%s/kv", cgroup_apps_dir());
    make_root_dirs(root, group);
}

static pid_t start_waiting_child(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        for (;;) {
            pause();
        }
    }
    CHECK(pid > 0);
    return pid;
}

/* An exited and reaped pid: a stand-in for the app's main process. */
static pid_t reaped_pid(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        _exit(0);
    }
    CHECK(waitpid(pid, NULL, 0) == pid);
    return pid;
}

static void write_procs(const char *root, const char *group, pid_t reaped, pid_t a, pid_t b)
{
    char rel[PATH_MAX + 32];
    char text[256];
    snprintf(rel, sizeof(rel), "%s/cgroup.procs", group);
    /* The reaped main process, two live ones, and lines that must never be signalled: init,
     * 0 (the caller's group), the caller itself, a number too long for a line, words. */
    snprintf(text, sizeof(text), "%d\n%d\n1\n0\n%d\n%d\n%s\nnot-a-pid\n", (int)reaped, (int)a,
             (int)getpid(), (int)b, "123456789012345678901234567890123456789");
    write_root_file(root, rel, text);
}

static void test_sigkills_each_listed_pid_without_cgroup_kill(void)
{
    char root[PATH_MAX];
    char group[PATH_MAX];
    make_group_root(root, sizeof(root), group, sizeof(group));
    pid_t reaped = reaped_pid();
    pid_t a = start_waiting_child();
    pid_t b = start_waiting_child();
    write_procs(root, group, reaped, a, b);
    CHECK_INT_EQ(cgroup_kill_leftovers(root, "kv", reaped), 2);
    int status = 0;
    CHECK(waitpid(a, &status, 0) == a && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    CHECK(waitpid(b, &status, 0) == b && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    /* Still listed (a fixture file) but gone: nothing left to wait for. */
    CHECK_INT_EQ(cgroup_kill_leftovers(root, "kv", reaped), 0);
    /* A group that is gone has nothing left either. */
    CHECK_INT_EQ(cgroup_kill_leftovers(root, "other", reaped), 0);
    remove_tree(root);
}

static void test_writes_cgroup_kill_when_the_kernel_has_it(void)
{
    char root[PATH_MAX];
    char group[PATH_MAX];
    char rel[PATH_MAX + 32];
    make_group_root(root, sizeof(root), group, sizeof(group));
    snprintf(rel, sizeof(rel), "%s/cgroup.kill", group);
    write_root_file(root, rel, "");
    pid_t reaped = reaped_pid();
    pid_t a = start_waiting_child();
    pid_t b = start_waiting_child();
    write_procs(root, group, reaped, a, b);
    /* The kernel kills the group on "1"; the agent only counts who still lives. */
    CHECK_INT_EQ(cgroup_kill_leftovers(root, "kv", reaped), 2);
    CHECK_STR_EQ(read_root_file(root, rel), "1");
    CHECK_INT_EQ(waitpid(a, NULL, WNOHANG), 0);
    CHECK_INT_EQ(waitpid(b, NULL, WNOHANG), 0);
    kill(a, SIGKILL);
    kill(b, SIGKILL);
    CHECK(waitpid(a, NULL, 0) == a && waitpid(b, NULL, 0) == b);
    CHECK_INT_EQ(cgroup_kill_leftovers(root, "kv", reaped), 0);
    remove_tree(root);
}

void register_cgroup_kill_tests(void)
{
    add_test("cgroup kill: SIGKILL to each listed pid, never 0, 1, itself, the reaped one or junk",
             test_sigkills_each_listed_pid_without_cgroup_kill);
    add_test("cgroup kill: cgroup.kill gets 1 when present; live members are counted",
             test_writes_cgroup_kill_when_the_kernel_has_it);
}

/* Tests of the real binary running unit apps against a scripted systemctl in the test root
 * (it answers like systemd 252 and logs its arguments): unit-not-found, the runtime drop-in,
 * a failed start with systemctl's own words, MainPID and the properties systemd applied, and an
 * exit judged from Result. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_harness.h"
#include "check.h"
#include "supervised_root.h"

static void write_text(const char *root, const char *rel, const char *text, mode_t mode)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s%s", root, rel);
    FILE *file = fopen(path, "w");
    CHECK(file != NULL && fputs(text, file) >= 0);
    if (file) {
        fclose(file);
    }
    CHECK(chmod(path, mode) == 0);
}

static const char *read_text(const char *root, const char *rel)
{
    static char text[2048];
    char path[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s%s", root, rel);
    FILE *file = fopen(path, "r");
    size_t len = file ? fread(text, 1, sizeof(text) - 1, file) : 0;
    text[len] = '\0';
    if (file) {
        fclose(file);
    }
    return file ? text : "(missing)";
}

static int count_of(const char *text, const char *needle)
{
    int count = 0;
    for (const char *at = strstr(text, needle); at; at = strstr(at + 1, needle)) {
        count++;
    }
    return count;
}

/* root/bin/systemctl: answers from root/loadstate, root/state; start fails if root/start-fails. */
static void make_unit_root(struct agent_proc *agent, char *root)
{
    make_supervised_root(agent, root, false);
    char path[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/bin", root);
    CHECK(mkdir(path, 0755) == 0);
    char script[4 * PATH_MAX];
    snprintf(script, sizeof(script),
             "#!/bin/sh\nR='%s'\necho \"$*\" >> \"$R/systemctl.log\"\n"
             "case \"$1:$3\" in\n"
             "show:LoadState,*) echo \"LoadState=$(cat \"$R/loadstate\")\"; "
             "echo \"NeedDaemonReload=$(cat \"$R/needreload\" 2>/dev/null || echo no)\" ;;\n"
             "show:MainPID,*) cat \"$R/props\" ;;\n"
             "show:*) cat \"$R/state\" ;;\n"
             "start:*) if [ -e \"$R/start-fails\" ]; then echo 'Job for redis.service failed "
             "because the control process exited with error code.' >&2; exit 1; fi ;;\n"
             "esac\n",
             root);
    write_text(root, "/bin/systemctl", script, 0755);
    write_text(root, "/loadstate", "loaded\n", 0644);
    /* Properties in systemd's order, not the order asked for. */
    write_text(root, "/props", "Restart=no\nMainPID=4321\nMemoryMax=1048576\nNUMAPolicy=bind\n"
                               "NUMAMask=0\nControlGroup=/system.slice/redis.service\n", 0644);
    make_root_dirs(root, "/sys/fs/cgroup/system.slice/redis.service");
    write_root_file(root, "/sys/fs/cgroup/system.slice/redis.service/memory.max", "1048576\n");
    write_text(root, "/state", "ActiveState=active\nResult=success\nExecMainCode=0\n"
                               "ExecMainStatus=0\nMainPID=4321\n", 0644);
}

#define START_REDIS                                                                            \
    "{\"type\":\"app.start\",\"id\":%d,\"name\":\"redis\",\"unit\":\"redis.service\","        \
    "\"memoryBytes\":1048576,\"node\":0}"

static void test_unit_not_found_and_failed_start(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    char root[PATH_MAX];
    make_unit_root(&agent, root);
    start_app_agent(&agent, root, "0");
    write_text(root, "/loadstate", "not-found\n", 0644);
    char line[512];
    snprintf(line, sizeof(line), START_REDIS, 1);
    CHECK_STR_EQ(request(&agent, line),
                 "{\"type\":\"reply\",\"id\":1,\"ok\":false,\"error\":{\"code\":\"unit-not-found\","
                 "\"message\":\"unit redis.service: not loaded in the guest "
                 "(LoadState=not-found)\"}}");
    write_text(root, "/loadstate", "loaded\n", 0644);
    write_text(root, "/start-fails", "", 0644);
    snprintf(line, sizeof(line), START_REDIS, 2);
    CHECK_STR_EQ(request(&agent, line),
                 "{\"type\":\"reply\",\"id\":2,\"ok\":false,\"error\":{\"code\":\"unit-failed\","
                 "\"message\":\"unit redis.service: systemctl start failed with exit code 1: Job "
                 "for redis.service failed because the control process exited with error "
                 "code.\"}}");
    CHECK_STR_EQ(read_text(root, "/run/systemd/system/redis.service.d/50-baton.conf"),
                 "# Written by baton-agent for app redis; removed at reboot.\n[Service]\n"
                 "Restart=no\nMemoryMax=1048576\nNUMAPolicy=bind\nNUMAMask=0\n");
    CHECK_STR_EQ(read_text(root, "/systemctl.log"),
                 "show -p LoadState,NeedDaemonReload redis.service\n"
                 "show -p LoadState,NeedDaemonReload redis.service\ndaemon-reload\n"
                 "start redis.service\n");
    check_clean_exit(&agent);
}

static void test_unit_runs_with_its_main_pid_and_its_exit_is_judged(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    char root[PATH_MAX];
    make_unit_root(&agent, root);
    start_app_agent(&agent, root, "0");
    char line[512];
    snprintf(line, sizeof(line), START_REDIS, 1);
    CHECK_STR_EQ(request(&agent, line),
                 "{\"type\":\"reply\",\"id\":1,\"ok\":true,\"result\":{\"name\":\"redis\","
                 "\"pid\":4321}}");
    json_t *ready = expect_message(&agent, "app.ready", LINE_TIMEOUT_MS);
    CHECK_INT_EQ(json_integer_value(json_object_get(ready, "pid")), 4321);
    json_decref(ready);
    CHECK_STR_EQ(request(&agent, "{\"type\":\"app.list\",\"id\":2}"),
                 "{\"type\":\"reply\",\"id\":2,\"ok\":true,\"result\":{\"apps\":[{\"name\":"
                 "\"redis\",\"pid\":4321,\"running\":true,\"unit\":{\"name\":\"redis.service\","
                 "\"memoryMaxBytes\":1048576,\"numaPolicy\":\"bind\",\"numaMask\":\"0\"}}]}}");
    write_text(root, "/state", "ActiveState=failed\nResult=signal\nExecMainCode=2\n"
                               "ExecMainStatus=11\nMainPID=0\n", 0644);
    json_t *exited = expect_message(&agent, "app.exited", 3 * LINE_TIMEOUT_MS);
    CHECK_STR_EQ(json_string_value(json_object_get(exited, "severity")), "crashed");
    CHECK_INT_EQ(json_integer_value(json_object_get(exited, "signal")), 11);
    json_decref(exited);
    /* Started again with the same drop-in: no daemon-reload unless systemd asks for one. */
    write_text(root, "/state", "ActiveState=active\nResult=success\nExecMainCode=0\n"
                               "ExecMainStatus=0\nMainPID=4321\n", 0644);
    snprintf(line, sizeof(line), START_REDIS, 3);
    CHECK(strstr(request(&agent, line), "\"ok\":true") != NULL);
    json_decref(expect_message(&agent, "app.ready", LINE_TIMEOUT_MS));
    CHECK_INT_EQ(count_of(read_text(root, "/systemctl.log"), "start redis.service"), 2);
    CHECK_INT_EQ(count_of(read_text(root, "/systemctl.log"), "daemon-reload"), 1);
    /* systemd says the unit's files changed since it loaded them: reloaded. */
    write_text(root, "/state", "ActiveState=failed\nResult=signal\nExecMainCode=2\n"
                               "ExecMainStatus=11\nMainPID=0\n", 0644);
    json_decref(expect_message(&agent, "app.exited", 3 * LINE_TIMEOUT_MS));
    write_text(root, "/state", "ActiveState=active\nResult=success\nExecMainCode=0\n"
                               "ExecMainStatus=0\nMainPID=4321\n", 0644);
    write_text(root, "/needreload", "yes\n", 0644);
    snprintf(line, sizeof(line), START_REDIS, 4);
    CHECK(strstr(request(&agent, line), "\"ok\":true") != NULL);
    json_decref(expect_message(&agent, "app.ready", LINE_TIMEOUT_MS));
    CHECK_INT_EQ(count_of(read_text(root, "/systemctl.log"), "daemon-reload"), 2);
    check_clean_exit(&agent);
}

static void test_unit_without_its_properties_applied_fails_to_start(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    char root[PATH_MAX];
    make_unit_root(&agent, root);
    start_app_agent(&agent, root, "0");
    write_text(root, "/props", "Restart=no\nMainPID=4321\nMemoryMax=infinity\nNUMAPolicy=bind\nNUMAMask=0\n"
                               "ControlGroup=/system.slice/redis.service\n", 0644);
    char line[512];
    snprintf(line, sizeof(line), START_REDIS, 1);
    CHECK_STR_EQ(request(&agent, line),
                 "{\"type\":\"reply\",\"id\":1,\"ok\":false,\"error\":{\"code\":\"unit-failed\","
                 "\"message\":\"unit redis.service: systemd reports MemoryMax=infinity, not the "
                 "1048576 bytes of its drop-in\"}}");
    write_text(root, "/props", "Restart=no\nMainPID=4321\nMemoryMax=1048576\nNUMAPolicy=default\n"
                               "NUMAMask=\nControlGroup=/system.slice/redis.service\n", 0644);
    snprintf(line, sizeof(line), START_REDIS, 2);
    CHECK_STR_EQ(request(&agent, line),
                 "{\"type\":\"reply\",\"id\":2,\"ok\":false,\"error\":{\"code\":\"unit-failed\","
                 "\"message\":\"unit redis.service: systemd reports NUMAPolicy=default NUMAMask=, "
                 "not bind to node 0\"}}");
    write_text(root, "/props", "Restart=always\nMainPID=4321\nMemoryMax=1048576\n"
                               "NUMAPolicy=bind\nNUMAMask=0\n", 0644);
    snprintf(line, sizeof(line), START_REDIS, 3);
    CHECK_STR_EQ(request(&agent, line),
                 "{\"type\":\"reply\",\"id\":3,\"ok\":false,\"error\":{\"code\":\"unit-failed\","
                 "\"message\":\"unit redis.service: systemd reports Restart=always, not the "
                 "drop-in's no\"}}");
    check_clean_exit(&agent);
}

void register_agent_unit_tests(void)
{
    add_test("agent units: a unit that is not loaded, and a failed systemctl start",
             test_unit_not_found_and_failed_start);
    add_test("agent units: MainPID is the pid; a failed unit is an exit judged from systemd",
             test_unit_runs_with_its_main_pid_and_its_exit_is_judged);
    add_test("agent units: a start fails when systemd does not show the drop-in applied",
             test_unit_without_its_properties_applied_fails_to_start);
}

/* Tests of the real binary running operator apps: any absolute argv[0], user, group, env and
 * workdir; exec health checks; start failures that name the guest's own reason. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_harness.h"
#include "check.h"

#define TESTER_UID 4242
#define TESTER_GID 4343
#define TESTERS_GID 4444

static void write_text(const char *root, const char *rel, const char *text)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s%s", root, rel);
    FILE *file = fopen(path, "w");
    CHECK(file != NULL && fputs(text, file) >= 0);
    if (file) {
        fclose(file);
    }
}

/* root/etc with a user and group, root/bin/sh -> the host's shell, root/work writable. */
static void make_operator_root(struct agent_proc *agent, char *root)
{
    make_app_root(agent, root, false);
    CHECK(chmod(agent->temp_dir, 0755) == 0); /* the app's user walks into root/work */
    char path[PATH_MAX + 64];
    const char *dirs[] = {"/etc", "/bin", "/work"};
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", root, dirs[i]);
        CHECK(mkdir(path, 0777) == 0 && chmod(path, 0777) == 0);
    }
    write_text(root, "/etc/passwd",
               "root:x:0:0:root:/root:/bin/sh\n"
               "broken:x:12:\n"
               "tester:x:4242:4343:Tester:/work:/bin/sh\n");
    write_text(root, "/etc/group", "root:x:0:\ntesters:x:4444:tester\n");
    snprintf(path, sizeof(path), "%s/bin/sh", root);
    CHECK(symlink("/bin/sh", path) == 0);
}

/* Waits for root + rel to hold a whole line; returns it without the newline (static). */
static const char *wait_for_line(const char *root, const char *rel, int timeout_ms)
{
    static char text[512];
    char path[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s%s", root, rel);
    for (long long start = now_ms(); now_ms() - start < timeout_ms; usleep(10000)) {
        FILE *file = fopen(path, "r");
        bool is_whole = file && fgets(text, sizeof(text), file) && strchr(text, '\n');
        if (file) {
            fclose(file);
        }
        if (is_whole) {
            *strchr(text, '\n') = '\0';
            return text;
        }
    }
    return "(nothing)";
}

static void test_app_runs_as_its_user_with_env_and_workdir(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    char root[PATH_MAX];
    make_operator_root(&agent, root);
    start_app_agent(&agent, root, "0");
    const char *line =
        "{\"type\":\"app.start\",\"id\":1,\"name\":\"kv\",\"argv\":[\"/bin/sh\",\"-c\","
        "\"echo $(id -u):$(id -g):$(id -G):$GREETING:$HOME > facts; exec sleep 60\"],"
        "\"user\":\"tester\",\"group\":\"testers\",\"env\":[\"GREETING=hello world\","
        "\"HOME=/nowhere\"],\"workdir\":\"/work\"}";
    CHECK(send_text(&agent, line, strlen(line)) && send_text(&agent, "\n", 1));
    json_t *reply = expect_reply(&agent, 1);
    CHECK(json_is_true(json_object_get(reply, "ok")));
    json_decref(reply);
    CHECK_STR_EQ(wait_for_line(root, "/work/facts", LINE_TIMEOUT_MS),
                 "4242:4444:4444:hello world:/nowhere");
    check_clean_exit(&agent);
}

static void test_start_failures_name_the_guest_reason(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    char root[PATH_MAX];
    make_operator_root(&agent, root);
    start_app_agent(&agent, root, "0");
    CHECK_STR_EQ(request(&agent, "{\"type\":\"app.start\",\"id\":1,\"name\":\"kv\",\"argv\":["
                                 "\"/usr/bin/not-there\"]}"),
                 "{\"type\":\"reply\",\"id\":1,\"ok\":false,\"error\":{\"code\":\"spawn-failed\","
                 "\"message\":\"starting /usr/bin/not-there failed: No such file or directory\"}}");
    CHECK_STR_EQ(request(&agent, "{\"type\":\"app.start\",\"id\":2,\"name\":\"kv\",\"argv\":["
                                 "\"/bin/sh\"],\"user\":\"nobody\"}"),
                 "{\"type\":\"reply\",\"id\":2,\"ok\":false,\"error\":{\"code\":"
                 "\"account-not-found\",\"message\":\"starting kv failed: user nobody is not in "
                 "/etc/passwd\"}}");
    CHECK_STR_EQ(request(&agent, "{\"type\":\"app.start\",\"id\":3,\"name\":\"kv\",\"argv\":["
                                 "\"/bin/sh\"],\"user\":\"broken\"}"),
                 "{\"type\":\"reply\",\"id\":3,\"ok\":false,\"error\":{\"code\":"
                 "\"account-not-found\",\"message\":\"starting kv failed: the line of user broken "
                 "in /etc/passwd is malformed\"}}");
    CHECK_STR_EQ(request(&agent, "{\"type\":\"app.start\",\"id\":4,\"name\":\"kv\",\"argv\":["
                                 "\"/bin/sh\"],\"group\":\"staff\"}"),
                 "{\"type\":\"reply\",\"id\":4,\"ok\":false,\"error\":{\"code\":"
                 "\"account-not-found\",\"message\":\"starting kv failed: group staff is not in "
                 "/etc/group\"}}");
    CHECK_STR_EQ(request(&agent, "{\"type\":\"app.start\",\"id\":5,\"name\":\"kv\",\"argv\":["
                                 "\"/bin/sh\"],\"workdir\":\"/missing\"}"),
                 "{\"type\":\"reply\",\"id\":5,\"ok\":false,\"error\":{\"code\":\"spawn-failed\","
                 "\"message\":\"starting /bin/sh failed: changing to workdir /missing: No such "
                 "file or directory\"}}");
    CHECK_STR_EQ(request(&agent, "{\"type\":\"app.list\",\"id\":6}"),
                 "{\"type\":\"reply\",\"id\":6,\"ok\":true,\"result\":{\"apps\":[]}}");
    check_clean_exit(&agent);
}

static void test_exec_health_check_decides_readiness(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    char root[PATH_MAX];
    make_operator_root(&agent, root);
    start_app_agent(&agent, root, "0");
    char line[PATH_MAX * 2];
    snprintf(line, sizeof(line),
             "{\"type\":\"app.start\",\"id\":1,\"name\":\"kv\",\"argv\":[\"/bin/sh\",\"-c\","
             "\"exec sleep 60\"],\"health\":{\"kind\":\"exec\",\"argv\":[\"/bin/sh\",\"-c\","
             "\"test -e %s/work/ready || { echo not yet; exit 3; }\"],\"intervalMs\":50,"
             "\"timeoutMs\":1000,\"failuresToUnhealthy\":100}}\n",
             root);
    CHECK(send_text(&agent, line, strlen(line)));
    json_t *reply = expect_reply(&agent, 1);
    CHECK(json_is_true(json_object_get(reply, "ok")));
    json_decref(reply);
    usleep(300000); /* several failed checks: no app.ready yet */
    CHECK_STR_EQ(request(&agent, "{\"type\":\"sync\",\"id\":2,\"nonce\":\"n\"}"),
                 "{\"type\":\"reply\",\"id\":2,\"ok\":true,\"result\":{\"nonce\":\"n\"}}");
    write_text(root, "/work/ready", "");
    json_t *ready = expect_message(&agent, "app.ready", LINE_TIMEOUT_MS);
    CHECK_STR_EQ(json_string_value(json_object_get(ready, "name")), "kv");
    json_decref(ready);
    check_clean_exit(&agent);
}

void register_agent_operator_tests(void)
{
    add_test("agent operator apps: runs as its user and group with env and workdir",
             test_app_runs_as_its_user_with_env_and_workdir);
    add_test("agent operator apps: start failures carry the guest's reason",
             test_start_failures_name_the_guest_reason);
    add_test("agent operator apps: an exec health check decides app.ready",
             test_exec_health_check_decides_readiness);
}

/* Tests of the real binary's channel handling: discovery, host disconnects and reconnects. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_harness.h"
#include "check.h"
#include "fixture_facts.h"

/* The agent's CPU time (user + system) in clock ticks, from /proc/PID/stat. */
static long cpu_ticks(pid_t pid)
{
    char path[64];
    char stat_text[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *file = fopen(path, "r");
    size_t n = file ? fread(stat_text, 1, sizeof(stat_text) - 1, file) : 0;
    if (file) {
        fclose(file);
    }
    stat_text[n] = '\0';
    const char *after_comm = strrchr(stat_text, ')');
    long utime = 0;
    long stime = 0;
    /* fields after "(comm)": state ppid pgrp session tty tpgid flags minflt cminflt majflt
     * cmajflt utime stime */
    if (!after_comm || sscanf(after_comm + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld",
                              &utime, &stime) != 2) {
        return -1;
    }
    return utime + stime;
}

static void test_agent_discovers_the_port_by_name_and_waits_for_it(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    open_host_pty(&agent);
    /* A root with the fixture /proc and /sys, and a /dev that has no port yet. */
    char fixtures[PATH_MAX];
    char path[PATH_MAX + 64];
    char target[PATH_MAX + 64];
    char root[PATH_MAX];
    CHECK(realpath(test_env.fixtures_root, fixtures) != NULL);
    make_temp_dir(&agent);
    snprintf(root, sizeof(root), "%s", agent.temp_dir);
    const char *tops[] = {"proc", "sys"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(target, sizeof(target), "%s/%s", fixtures, tops[i]);
        snprintf(path, sizeof(path), "%s/%s", root, tops[i]);
        CHECK(symlink(target, path) == 0);
    }
    snprintf(path, sizeof(path), "%s/dev", root);
    CHECK(mkdir(path, 0755) == 0);
    const char *args[] = {"--root", root, NULL};
    start_agent(&agent, args);

    sleep_ms(300);
    char line[LINE_MAX_BYTES + 1];
    CHECK(read_line(&agent, 0, line, sizeof(line)) < 0); /* nothing before the port exists */
    snprintf(path, sizeof(path), "%s/dev/%s", root, FIX_PORT_DEV_NAME);
    CHECK(symlink(agent.port_path, path) == 0);
    json_t *hello = expect_message(&agent, "hello", LINE_TIMEOUT_MS);
    CHECK_INT_EQ(json_integer_value(json_object_get(hello, "heartbeatMs")),
                 FIX_CMDLINE_HEARTBEAT_MS);
    json_decref(hello);
    CHECK_STR_EQ(request(&agent, "{\"type\":\"sync\",\"id\":1,\"nonce\":\"found\"}"),
                 "{\"type\":\"reply\",\"id\":1,\"ok\":true,\"result\":{\"nonce\":\"found\"}}");
    int status = stop_agent(&agent);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_agent_says_hello_again_when_the_host_reconnects(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    listen_host_socket(&agent);
    const char *args[] = {"--port", agent.port_path, "--root", test_env.fixtures_root,
                          "--heartbeat-ms", "50", NULL};
    start_agent(&agent, args);
    CHECK(accept_agent(&agent, LINE_TIMEOUT_MS));
    json_decref(expect_message(&agent, "hello", LINE_TIMEOUT_MS));
    json_t *beat = expect_message(&agent, "heartbeat", LINE_TIMEOUT_MS);
    json_decref(beat);
    beat = expect_message(&agent, "heartbeat", LINE_TIMEOUT_MS);
    CHECK_INT_EQ(json_integer_value(json_object_get(beat, "seq")), 2);
    json_decref(beat);

    close_host(&agent);
    CHECK(accept_agent(&agent, LINE_TIMEOUT_MS));
    json_decref(expect_message(&agent, "hello", LINE_TIMEOUT_MS));
    beat = expect_message(&agent, "heartbeat", LINE_TIMEOUT_MS);
    CHECK_INT_EQ(json_integer_value(json_object_get(beat, "seq")), 1); /* per connection */
    json_decref(beat);
    CHECK_STR_EQ(request(&agent, "{\"type\":\"sync\",\"id\":8,\"nonce\":\"again\"}"),
                 "{\"type\":\"reply\",\"id\":8,\"ok\":true,\"result\":{\"nonce\":\"again\"}}");
    int status = stop_agent(&agent);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_agent_with_once_exits_when_the_host_closes(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    open_host_pty(&agent);
    const char *args[] = {"--port", agent.port_path, "--root", test_env.fixtures_root, "--once",
                          NULL};
    start_agent(&agent, args);
    json_decref(expect_message(&agent, "hello", LINE_TIMEOUT_MS));
    close(agent.slave_fd);
    agent.slave_fd = -1;
    close_host(&agent);
    int status = wait_agent_exit(&agent, LINE_TIMEOUT_MS);
    CHECK(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    stop_agent(&agent);
}

static void test_agent_waits_for_the_host_without_spinning(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    open_host_pty(&agent);
    const char *args[] = {"--port", agent.port_path, "--root", test_env.fixtures_root,
                          "--heartbeat-ms", "50", NULL};
    start_agent(&agent, args);
    json_decref(expect_message(&agent, "hello", LINE_TIMEOUT_MS));
    close(agent.slave_fd);
    agent.slave_fd = -1;
    close_host(&agent); /* the slave now reports POLLHUP forever, like an unconnected vport */
    sleep_ms(100);
    long before = cpu_ticks(agent.pid);
    sleep_ms(1000);
    long after = cpu_ticks(agent.pid);
    CHECK(before >= 0 && after >= 0);
    long ticks_per_second = sysconf(_SC_CLK_TCK);
    /* Spinning would use about a second of CPU; waiting uses next to none. */
    CHECK(after - before < ticks_per_second / 10);
    CHECK(waitpid(agent.pid, NULL, WNOHANG) == 0);
    int status = stop_agent(&agent);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

void register_agent_link_tests(void)
{
    add_test("link: discovers the port by name under --root, waiting for it to appear",
             test_agent_discovers_the_port_by_name_and_waits_for_it);
    add_test("link: says hello again with seq from 1 when the host reconnects",
             test_agent_says_hello_again_when_the_host_reconnects);
    add_test("link: with --once exits 0 when the host closes the channel",
             test_agent_with_once_exits_when_the_host_closes);
    add_test("link: waits for the host without spinning while the port reports hangup",
             test_agent_waits_for_the_host_without_spinning);
}

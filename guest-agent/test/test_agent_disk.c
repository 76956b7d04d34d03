/* Tests of the real binary waiting for an app's disk, and of fault.panic. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_harness.h"
#include "check.h"

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
}

static void test_disk_not_found_after_the_wait_while_heartbeating(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    char root[PATH_MAX];
    make_app_root(&agent, root, false);
    start_app_agent(&agent, root, "400");
    long long start = now_ms();
    const char *line = "{\"type\":\"app.start\",\"id\":1,\"name\":\"kv\",\"argv\":["
                       "\"/apps/test-app\",\"wait\"],\"disk\":{\"serial\":\"nope\","
                       "\"mountPoint\":\"/data/kv\"}}\n";
    CHECK(send_text(&agent, line, strlen(line)));
    int beats = 0;
    char text[LINE_MAX_BYTES + 1];
    while (read_line(&agent, LINE_TIMEOUT_MS, text, sizeof(text)) >= 0 &&
           strncmp(text, "{\"type\":\"heartbeat\"", 19) == 0) {
        beats++;
    }
    long long elapsed = now_ms() - start;
    CHECK_STR_EQ(text, "{\"type\":\"reply\",\"id\":1,\"ok\":false,\"error\":{\"code\":"
                       "\"disk-not-found\",\"message\":\"no disk with serial nope in /sys/block "
                       "after 400 ms: No such file or directory\"}}");
    CHECK(elapsed >= 400 && elapsed < 1500);
    CHECK(beats >= 5); /* 50 ms beats went on during the 400 ms wait */
    CHECK_STR_EQ(request(&agent, "{\"type\":\"app.list\",\"id\":2}"),
                 "{\"type\":\"reply\",\"id\":2,\"ok\":true,\"result\":{\"apps\":[]}}");
    check_clean_exit(&agent);
}

static void test_hot_added_disk_is_found_during_the_wait(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    char root[PATH_MAX];
    char path[PATH_MAX + 64];
    make_app_root(&agent, root, true);
    /* /data is a file, so creating the mount point fails before any mount(2) is tried. */
    snprintf(path, sizeof(path), "%s/data", root);
    CHECK(rmdir(path) == 0);
    write_file(root, "data", "");
    start_app_agent(&agent, root, "3000");
    long long start = now_ms();
    const char *line = "{\"type\":\"app.start\",\"id\":1,\"name\":\"kv\",\"argv\":["
                       "\"/apps/test-app\",\"wait\"],\"disk\":{\"serial\":\"kv-data\","
                       "\"mountPoint\":\"/data/kv\"}}\n";
    CHECK(send_text(&agent, line, strlen(line)));
    sleep_ms(300);
    snprintf(path, sizeof(path), "%s/sys/block/vdc", root);
    CHECK(mkdir(path, 0755) == 0);
    write_file(path, "serial", "kv-data\n");
    CHECK_STR_EQ(next_message_text(&agent),
                 "{\"type\":\"reply\",\"id\":1,\"ok\":false,\"error\":{\"code\":\"mount-failed\","
                 "\"message\":\"creating mount point /data/kv failed: Not a directory\"}}");
    long long elapsed = now_ms() - start;
    CHECK(elapsed >= 300 && elapsed < 1500);
    check_clean_exit(&agent);
}

static void test_fault_panic_is_refused_by_default(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    start_agent_on_pty(&agent, NULL);
    json_decref(expect_message(&agent, "hello", LINE_TIMEOUT_MS));
    CHECK_STR_EQ(request(&agent, "{\"type\":\"fault.panic\",\"id\":1}"),
                 "{\"type\":\"reply\",\"id\":1,\"ok\":false,\"error\":{\"code\":"
                 "\"faults-disabled\",\"message\":\"fault injection is off; it needs "
                 "baton.faults=1 on the kernel command line\"}}");
    check_clean_exit(&agent);
}

static void test_fault_panic_replies_then_writes_c_to_sysrq_trigger(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    char path[PATH_MAX + 64];
    make_temp_dir(&agent);
    snprintf(path, sizeof(path), "%s/proc", agent.temp_dir);
    CHECK(mkdir(path, 0755) == 0);
    write_file(path, "cmdline", "console=ttyS0 baton.faults=1 quiet\n");
    write_file(path, "sysrq-trigger", "");
    open_host_pty(&agent);
    const char *args[] = {"--port", agent.port_path, "--root", agent.temp_dir, NULL};
    start_agent(&agent, args);
    json_decref(expect_message(&agent, "hello", LINE_TIMEOUT_MS));
    CHECK_STR_EQ(request(&agent, "{\"type\":\"fault.panic\",\"id\":7}"),
                 "{\"type\":\"reply\",\"id\":7,\"ok\":true,\"result\":{}}");
    char text[16] = "";
    snprintf(path, sizeof(path), "%s/proc/sysrq-trigger", agent.temp_dir);
    for (int i = 0; i < 100 && text[0] == '\0'; i++) {
        int fd = open(path, O_RDONLY);
        ssize_t n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;
        text[n > 0 ? n : 0] = '\0';
        close(fd);
        sleep_ms(n > 0 ? 0 : 10);
    }
    CHECK_STR_EQ(text, "c");
    check_clean_exit(&agent);
}

void register_agent_disk_tests(void)
{
    add_test("disks: app.start answers disk-not-found after the wait, heartbeating meanwhile",
             test_disk_not_found_after_the_wait_while_heartbeating);
    add_test("disks: a disk hot-added during the wait is found (then its mount point fails)",
             test_hot_added_disk_is_found_during_the_wait);
    add_test("faults: fault.panic is refused without baton.faults=1",
             test_fault_panic_is_refused_by_default);
    add_test("faults: with baton.faults=1, fault.panic replies {} and writes c to sysrq-trigger",
             test_fault_panic_replies_then_writes_c_to_sysrq_trigger);
}

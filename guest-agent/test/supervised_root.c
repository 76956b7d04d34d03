/* Roots for the supervision tests: their own /sys (cgroup, nodes, power) and /proc/cmdline. */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_harness.h"
#include "check.h"
#include "supervised_root.h"

void write_root_file(const char *root, const char *rel, const char *text)
{
    char path[PATH_MAX + 128];
    snprintf(path, sizeof(path), "%s%s", root, rel);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    if (fd >= 0) {
        close(fd);
    }
}

const char *read_root_file(const char *root, const char *rel)
{
    static char text[1024];
    char path[PATH_MAX + 128];
    snprintf(path, sizeof(path), "%s%s", root, rel);
    int fd = open(path, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;
    if (fd >= 0) {
        close(fd);
    }
    text[n > 0 ? n : 0] = '\0';
    return fd >= 0 ? text : "(missing)";
}

void make_root_dirs(const char *root, const char *rel)
{
    char path[PATH_MAX + 128];
    int len = snprintf(path, sizeof(path), "%s%s", root, rel);
    for (int i = (int)strlen(root) + 1; i <= len; i++) {
        if (path[i] == '/' || path[i] == '\0') {
            char saved = path[i];
            path[i] = '\0';
            CHECK(mkdir(path, 0755) == 0 || access(path, F_OK) == 0);
            path[i] = saved;
        }
    }
}

void write_node_meminfo(const char *root, unsigned node, long long total_kb)
{
    char rel[128];
    char text[256];
    snprintf(rel, sizeof(rel), "/sys/devices/system/node/node%u", node);
    make_root_dirs(root, rel);
    snprintf(rel, sizeof(rel), "/sys/devices/system/node/node%u/meminfo.new", node);
    snprintf(text, sizeof(text),
             "Node %u MemTotal:       %lld kB\nNode %u MemFree:        %lld kB\n", node,
             total_kb, node, total_kb / 2);
    write_root_file(root, rel, text);
    /* Renamed into place: the agent may be reading it right now, and sysfs reads are whole. */
    char from[PATH_MAX + 128];
    char to[PATH_MAX + 128];
    snprintf(from, sizeof(from), "%s%s", root, rel);
    snprintf(to, sizeof(to), "%.*s", (int)(strlen(from) - 4), from);
    CHECK(rename(from, to) == 0);
}

static void link_fixture(const char *root, const char *rel)
{
    char fixtures[PATH_MAX];
    char target[PATH_MAX + 128];
    char path[PATH_MAX + 128];
    CHECK(realpath(test_env.fixtures_root, fixtures) != NULL);
    snprintf(target, sizeof(target), "%s%s", fixtures, rel);
    snprintf(path, sizeof(path), "%s%s", root, rel);
    CHECK(symlink(target, path) == 0);
}

void make_supervised_root(struct agent_proc *agent, char *root, bool is_faults_enabled)
{
    make_app_root(agent, root, true);
    char path[PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/proc", root);
    CHECK(unlink(path) == 0 && mkdir(path, 0755) == 0);
    write_root_file(root, "/proc/cmdline",
                    is_faults_enabled ? "console=ttyS0 baton.faults=1\n" : "console=ttyS0\n");
    link_fixture(root, "/proc/meminfo");
    link_fixture(root, "/proc/uptime");
    link_fixture(root, "/proc/sys");
    make_root_dirs(root, "/sys/fs/cgroup");
    make_root_dirs(root, "/sys/power");
    write_root_file(root, "/sys/power/state", "");
    make_root_dirs(root, "/sys/devices/system");
    link_fixture(root, "/sys/devices/system/memory");
    write_node_meminfo(root, 0, FIX_NODE0_KB);
}

int free_tcp_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(addr);
    CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
          getsockname(fd, (struct sockaddr *)&addr, &len) == 0);
    close(fd);
    return ntohs(addr.sin_port);
}

int listen_without_answering(int *out_port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(addr);
    CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
          listen(fd, 64) == 0 && getsockname(fd, (struct sockaddr *)&addr, &len) == 0);
    *out_port = ntohs(addr.sin_port);
    return fd;
}

void send_line(struct agent_proc *agent, const char *line)
{
    CHECK(send_text(agent, line, strlen(line)) && send_text(agent, "\n", 1));
}

const char *next_message_within(struct agent_proc *agent, int timeout_ms)
{
    static char text[LINE_MAX_BYTES + 1];
    long long deadline = now_ms() + timeout_ms;
    long long left;
    while ((left = deadline - now_ms()) > 0 && read_line(agent, (int)left, text, sizeof(text)) >= 0) {
        if (strncmp(text, "{\"type\":\"heartbeat\"", 19) != 0) {
            return text;
        }
    }
    return "(nothing)";
}

int count_open_fds(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    DIR *dir = opendir(path);
    int count = 0;
    for (struct dirent *entry; dir && (entry = readdir(dir)) != NULL;) {
        count += entry->d_name[0] != '.';
    }
    if (dir) {
        closedir(dir);
    }
    return dir ? count : -1;
}

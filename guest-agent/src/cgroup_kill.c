/* Killing what an app leaves in its cgroup after its main process ended (systemd's
 * KillMode=control-group): PostgreSQL's backends call setsid(), so signalling the process group
 * misses them, and they hold the data disk, the shared memory and the group busy. */
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "linux_abi.h"
#include "log.h"
#include "textfile.h"

#define PID_LINE_BYTES 32

/* Writes "1" to the group's cgroup.kill; 0, or -errno (-ENOENT before Linux 5.14). Opened
 * without O_CREAT: a fixture tree without the file stands for an older kernel. */
static int write_cgroup_kill(const char *dir_path)
{
    char path[PATH_MAX];
    int rc = path_printf(path, sizeof(path), "%s/%s", dir_path, CGROUP_KILL_FILE);
    int fd = rc < 0 ? rc : open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        return rc < 0 ? rc : -errno;
    }
    ssize_t n = write(fd, CGROUP_KILL_ALL, strlen(CGROUP_KILL_ALL));
    rc = n < 0 ? -errno : 0;
    close(fd);
    return rc;
}

/* A pid of a cgroup.procs line: 1 and below (kill(-1) and kill(0) signal far more), the agent
 * itself and anything not a plain number are skipped. */
static pid_t parse_pid_line(const char *line)
{
    uint64_t value;
    if (parse_u64(line, 10, &value) < 0 || value <= 1 || value > INT_MAX ||
        (pid_t)value == getpid()) {
        return 0;
    }
    return (pid_t)value;
}

int cgroup_kill_leftovers(const char *root, const char *name, pid_t reaped)
{
    char dir_path[PATH_MAX];
    char path[PATH_MAX];
    int rc = path_printf(dir_path, sizeof(dir_path), "%s%s/%s", root, cgroup_apps_dir(), name);
    if (rc == 0) {
        rc = path_printf(path, sizeof(path), "%s/%s", dir_path, CGROUP_PROCS_FILE);
    }
    FILE *procs = rc < 0 ? NULL : fopen(path, "re");
    if (!procs) {
        return rc < 0 ? rc : errno == ENOENT ? 0 : -errno;
    }
    bool has_kill = write_cgroup_kill(dir_path) == 0;
    int alive = 0;
    char line[PID_LINE_BYTES];
    while (fgets(line, sizeof(line), procs)) {
        if (!strchr(line, '\n') && !feof(procs)) {
            int c; /* an overlong line is no pid: skipped whole, its tail never parsed */
            while ((c = fgetc(procs)) != EOF && c != '\n') {
            }
            continue;
        }
        pid_t pid = parse_pid_line(line);
        /* The reaped main process may still be listed (a fixture's plain file); a pid that is
         * gone is not waited for. */
        if (pid == 0 || pid == reaped || (kill(pid, has_kill ? 0 : SIGKILL) < 0 && errno == ESRCH)) {
            continue;
        }
        alive++;
    }
    fclose(procs);
    return alive;
}

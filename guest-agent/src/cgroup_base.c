/* Where apps' cgroups go: below the agent's own delegated cgroup (systemd) or CGROUP_BATON_DIR. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "linux_abi.h"
#include "log.h"
#include "textfile.h"

static char parent_dir[PATH_MAX] = SYSFS_CGROUP_DIR;
static char apps_dir[PATH_MAX] = CGROUP_BATON_DIR;

const char *cgroup_apps_parent_dir(void)
{
    return parent_dir;
}

const char *cgroup_apps_dir(void)
{
    return apps_dir;
}

/* The cgroup v2 path of the "0::" line, checked: absolute, no "." or ".." parts, no "//". */
int parse_own_cgroup(const char *text, char *out, size_t cap)
{
    const char *line = text;
    while (strncmp(line, PROC_CGROUP_V2_PREFIX, strlen(PROC_CGROUP_V2_PREFIX)) != 0) {
        line = strchr(line, '\n');
        if (!line) {
            return -ENOENT;
        }
        line++;
    }
    line += strlen(PROC_CGROUP_V2_PREFIX);
    size_t len = strcspn(line, "\n");
    if (len == 0 || len >= cap || line[0] != '/') {
        return -EINVAL;
    }
    memcpy(out, line, len);
    out[len] = '\0';
    if (strstr(out, "//") || strstr(out, "/./") || strstr(out, "/../") ||
        (len >= 2 && strcmp(out + len - 2, "/.") == 0) ||
        (len >= 3 && strcmp(out + len - 3, "/..") == 0)) {
        return -EINVAL;
    }
    return 0;
}

/* Whether cgroup.procs of dir lists a process other than self (or cannot be read). */
static bool is_shared(const char *root, const char *dir)
{
    char path[PATH_MAX];
    char text[PROC_FILE_MAX_BYTES];
    if (path_printf(path, sizeof(path), "%s%s/%s", root, dir, CGROUP_PROCS_FILE) < 0 ||
        read_text_file(path, text, sizeof(text)) < 0) {
        return true;
    }
    long self = (long)getpid();
    for (char *p = text; *p != '\0';) {
        char *end;
        long pid = strtol(p, &end, 10);
        if (end == p) {
            break;
        }
        if (pid != self) {
            return true;
        }
        p = end + strspn(end, "\n");
    }
    return false;
}

/* mkdir <own>/agent and move this process into it; 0 or -errno. */
static int move_self_to_leaf(const char *root, const char *own_dir)
{
    char path[PATH_MAX];
    int rc = path_printf(path, sizeof(path), "%s%s/%s", root, own_dir, CGROUP_AGENT_LEAF);
    if (rc < 0) {
        return rc;
    }
    if (mkdir(path, CGROUP_DIR_MODE) < 0 && errno != EEXIST) {
        return -errno;
    }
    rc = path_printf(path, sizeof(path), "%s%s/%s/%s", root, own_dir, CGROUP_AGENT_LEAF,
                     CGROUP_PROCS_FILE);
    int fd = rc < 0 ? rc : open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        return rc < 0 ? rc : -errno;
    }
    char pid_text[24];
    int len = snprintf(pid_text, sizeof(pid_text), "%ld", (long)getpid());
    ssize_t n = write(fd, pid_text, (size_t)len);
    rc = n < 0 ? -errno : n == len ? 0 : -EIO;
    close(fd);
    return rc;
}

/* Uses own (not "/") when the agent is alone in it and can move to its leaf; logs the choice. */
static bool use_own_cgroup(const char *root, const char *own)
{
    char own_dir[PATH_MAX];
    char own_apps_dir[PATH_MAX];
    if (path_printf(own_dir, sizeof(own_dir), "%s%s", SYSFS_CGROUP_DIR, own) < 0 ||
        path_printf(own_apps_dir, sizeof(own_apps_dir), "%s/%s", own_dir, CGROUP_APPS_LEAF) < 0) {
        log_msg("cgroup path %s is too long; apps' cgroups go under %s", own, CGROUP_BATON_DIR);
        return false;
    }
    if (is_shared(root, own_dir)) {
        log_msg("cgroup %s is shared with other processes; apps' cgroups go under %s", own,
                CGROUP_BATON_DIR);
        return false;
    }
    int rc = move_self_to_leaf(root, own_dir);
    if (rc < 0) {
        log_msg("moving the agent to %s/%s failed: %s; apps' cgroups go under %s", own_dir,
                CGROUP_AGENT_LEAF, strerror(-rc), CGROUP_BATON_DIR);
        return false;
    }
    memcpy(parent_dir, own_dir, sizeof(parent_dir));
    memcpy(apps_dir, own_apps_dir, sizeof(apps_dir));
    log_msg("delegated cgroup %s: agent in %s/%s, apps' cgroups under %s", own, own_dir,
            CGROUP_AGENT_LEAF, apps_dir);
    return true;
}

bool cgroup_choose_base(const char *root)
{
    char path[PATH_MAX];
    char text[PROC_FILE_MAX_BYTES];
    char own[PATH_MAX / 2];
    int rc = path_join(path, sizeof(path), root, PROC_SELF_CGROUP_PATH);
    long len = rc < 0 ? rc : read_text_file(path, text, sizeof(text));
    rc = len < 0 ? (int)len : parse_own_cgroup(text, own, sizeof(own));
    if (rc == 0) {
        return strcmp(own, "/") != 0 && use_own_cgroup(root, own);
    }
    if (rc != -ENOENT) {
        log_msg("reading the agent's cgroup from %s failed: %s; apps' cgroups go under %s",
                PROC_SELF_CGROUP_PATH, strerror(-rc), CGROUP_BATON_DIR);
    }
    return false;
}

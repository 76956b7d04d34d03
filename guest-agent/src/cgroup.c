/* An app's cgroup v2 group (cgroup_apps_dir()/<name>), its memory limit, node and OOM kills. */
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "linux_abi.h"
#include "log.h"
#include "textfile.h"

#define VALUE_TEXT_BYTES 32

/* Opens dir/file under root like a shell redirect (O_CREAT | O_TRUNC: cgroupfs ignores both
 * for its own files; a fixture tree gets a plain file); returns the fd or -errno. */
static int open_control(const char *root, const char *dir, const char *file)
{
    char path[PATH_MAX];
    int rc = path_printf(path, sizeof(path), "%s%s/%s", root, dir, file);
    if (rc < 0) {
        return rc;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    return fd < 0 ? -errno : fd;
}

static int write_control(const char *root, const char *dir, const char *file, const char *text)
{
    int fd = open_control(root, dir, file);
    if (fd < 0) {
        return fd;
    }
    size_t len = strlen(text);
    ssize_t n = write(fd, text, len);
    int rc = n < 0 ? -errno : (size_t)n == len ? 0 : -EIO;
    close(fd);
    return rc;
}

static int fail(char *err, size_t cap, int rc, const char *what, const char *dir, const char *file)
{
    snprintf(err, cap, "%s %s/%s failed: %s", what, dir, file, strerror(-rc));
    return -1;
}

/* Lets dir's children use memory (required) and cpuset (when available). */
static int enable_controllers(const char *root, const char *dir, bool *has_cpuset, char *err,
                              size_t cap)
{
    const char *file = CGROUP_SUBTREE_CONTROL_FILE;
    if (write_control(root, dir, file, CGROUP_ENABLE_MEMORY_CPUSET) == 0) {
        return 0;
    }
    *has_cpuset = false;
    int rc = write_control(root, dir, file, CGROUP_ENABLE_MEMORY);
    return rc < 0 ? fail(err, cap, rc, "enabling the memory controller in", dir, file) : 0;
}

static int make_group(const char *root, const char *dir, char *err, size_t cap)
{
    char path[PATH_MAX];
    int rc = path_join(path, sizeof(path), root, dir);
    if (rc == 0 && mkdir(path, CGROUP_DIR_MODE) < 0 && errno != EEXIST) {
        rc = -errno;
    }
    if (rc < 0) {
        snprintf(err, cap, "creating cgroup %s failed: %s", dir, strerror(-rc));
        return -1;
    }
    return 0;
}

int cgroup_prepare(const char *root, const struct app_spec *spec, struct cgroup_setup *out,
                   char *err, size_t cap)
{
    char dir[PATH_MAX];
    char value[VALUE_TEXT_BYTES];
    bool has_cpuset = true;
    const char *apps_dir = cgroup_apps_dir();
    snprintf(dir, sizeof(dir), "%s/%s", apps_dir, spec->name);
    if (enable_controllers(root, cgroup_apps_parent_dir(), &has_cpuset, err, cap) < 0 ||
        make_group(root, apps_dir, err, cap) < 0 ||
        enable_controllers(root, apps_dir, &has_cpuset, err, cap) < 0 ||
        make_group(root, dir, err, cap) < 0) {
        return -1;
    }
    int rc;
    /* A reused group (same name) may still have an earlier app's limit. */
    snprintf(value, sizeof(value), "%" PRIu64, spec->memory_bytes);
    rc = write_control(root, dir, CGROUP_MEMORY_MAX_FILE,
                       spec->has_memory ? value : CGROUP_MEMORY_MAX_NONE);
    if (rc < 0) {
        return fail(err, cap, rc, "writing", dir, CGROUP_MEMORY_MAX_FILE);
    }
    /* The node is bound by set_mempolicy(MPOL_BIND) in the child, not by cpuset.mems: the
     * slot's node holds only hot-plugged ZONE_MOVABLE memory, and a cpuset's hardwall would
     * refuse the app every non-movable user allocation there (pipe buffers: a shell's command
     * substitution, postgres's and redis's own pipes), where MPOL_BIND applies to movable
     * allocations only. */
    (void)has_cpuset;
    out->oom_kills = 0;
    rc = cgroup_read_oom_kills(root, spec->name, &out->oom_kills);
    if (rc < 0 && rc != -ENOENT) {
        log_msg("app %s: reading %s/%s failed: %s; counting OOM kills from 0", spec->name, dir,
                CGROUP_MEMORY_EVENTS_FILE, strerror(-rc));
    }
    out->procs_fd = open_control(root, dir, CGROUP_PROCS_FILE);
    if (out->procs_fd < 0) {
        return fail(err, cap, out->procs_fd, "opening", dir, CGROUP_PROCS_FILE);
    }
    return 0;
}

int find_keyed_value(const char *text, const char *key, uint64_t *out)
{
    size_t key_len = strlen(key);
    for (const char *line = text; *line != '\0';) {
        const char *eol = strchr(line, '\n');
        if (strncmp(line, key, key_len) == 0 && line[key_len] == ' ') {
            char number[VALUE_TEXT_BYTES];
            size_t len = eol ? (size_t)(eol - line) - key_len : strlen(line + key_len);
            if (len >= sizeof(number)) {
                return -EINVAL;
            }
            memcpy(number, line + key_len, len);
            number[len] = '\0';
            return parse_u64(number, 10, out);
        }
        if (!eol) {
            break;
        }
        line = eol + 1;
    }
    return -ENOENT;
}

int cgroup_read_oom_kills(const char *root, const char *name, uint64_t *out)
{
    char path[PATH_MAX];
    char text[PROC_FILE_MAX_BYTES];
    int rc = path_printf(path, sizeof(path), "%s%s/%s/%s", root, cgroup_apps_dir(), name,
                         CGROUP_MEMORY_EVENTS_FILE);
    long len = rc < 0 ? rc : read_text_file(path, text, sizeof(text));
    return len < 0 ? (int)len : find_keyed_value(text, MEMORY_EVENTS_OOM_KILL_KEY, out);
}

void cgroup_remove(const char *root, const char *name)
{
    char path[PATH_MAX];
    if (path_printf(path, sizeof(path), "%s%s/%s", root, cgroup_apps_dir(), name) == 0 &&
        rmdir(path) < 0 && errno != ENOENT) {
        log_msg("app %s: removing cgroup %s/%s failed: %s", name, cgroup_apps_dir(), name,
                strerror(errno));
    }
}

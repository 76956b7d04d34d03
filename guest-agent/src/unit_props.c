/* A unit app's runtime drop-in, and what systemd applied once it started: MainPID, Restart,
 * MemoryMax, NUMAPolicy, NUMAMask from `systemctl show`, checked against what the agent asked
 * for, and the kernel's memory.max of the unit's cgroup, kept for app.list. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apps.h"
#include "disk.h"
#include "linux_abi.h"
#include "textfile.h"

/* The drop-in's longest text. */
#define DROP_IN_MAX_BYTES 512
/* Longest value kept from one "Key=value" field. */
#define SHOW_VALUE_MAX_BYTES 256

bool show_value(const char *text, const char *key, char *out, size_t cap)
{
    size_t key_len = strlen(key);
    const char *field = text;
    while (*field != '\0') {
        const char *end = strchr(field, ' ');
        size_t len = end ? (size_t)(end - field) : strlen(field);
        if (len > key_len && strncmp(field, key, key_len) == 0 && field[key_len] == '=') {
            snprintf(out, cap, "%.*s", (int)(len - key_len - 1), field + key_len + 1);
            return true;
        }
        field += len;
        while (*field == ' ') {
            field++;
        }
    }
    return false;
}

int write_unit_drop_in(struct apps *apps, const struct app *app)
{
    char text[DROP_IN_MAX_BYTES];
    int len = snprintf(text, sizeof(text),
                       "# Written by baton-agent for app %s; removed at reboot.\n[Service]\n"
                       "Restart=no\n", app->spec.name);
    if (app->spec.has_memory) {
        len += snprintf(text + len, sizeof(text) - (size_t)len, "MemoryMax=%llu\n",
                        (unsigned long long)app->spec.memory_bytes);
    }
    if (app->spec.has_node) {
        len += snprintf(text + len, sizeof(text) - (size_t)len, "NUMAPolicy=bind\nNUMAMask=%u\n",
                        app->spec.node);
    }
    char dir[PATH_MAX];
    char path[PATH_MAX];
    char old[DROP_IN_MAX_BYTES];
    if (path_printf(dir, sizeof(dir), "%s/%s.d", SYSTEMD_RUNTIME_UNIT_DIR, app->spec.unit) < 0) {
        return -ENAMETOOLONG;
    }
    int rc = make_dirs(apps->root, dir);
    if (rc < 0 || (rc = path_printf(path, sizeof(path), "%s%s/%s", apps->root, dir,
                                    UNIT_DROP_IN_FILE)) < 0) {
        return rc;
    }
    if (read_text_file(path, old, sizeof(old)) >= 0 && strcmp(old, text) == 0) {
        return DROP_IN_UNCHANGED;
    }
    FILE *file = fopen(path, "we");
    if (!file) {
        return -errno;
    }
    fputs(text, file);
    return fclose(file) == 0 ? 0 : -errno;
}

/* The unit's cgroup's memory.max: bytes, or UINT64_MAX for "max"; 0 or -errno. */
static int read_cgroup_memory_max(const struct apps *apps, const char *cgroup, uint64_t *out)
{
    char path[PATH_MAX];
    char text[32];
    if (cgroup[0] != '/' || strstr(cgroup, "..") != NULL) {
        return -EINVAL;
    }
    if (path_printf(path, sizeof(path), "%s%s%s/memory.max", apps->root, SYSFS_CGROUP_DIR,
                    cgroup) < 0) {
        return -ENAMETOOLONG;
    }
    long len = read_text_file(path, text, sizeof(text));
    if (len < 0) {
        return (int)len;
    }
    if (strncmp(text, "max", 3) == 0) {
        *out = UINT64_MAX;
        return 0;
    }
    return parse_u64(text, 10, out);
}

int check_unit_props(struct apps *apps, struct app *app, const char *text, char *why, size_t cap)
{
    char value[SHOW_VALUE_MAX_BYTES] = "";
    char *end = NULL;
    long pid = show_value(text, "MainPID", value, sizeof(value)) ? strtol(value, &end, 10) : 0;
    if (end == value || (end && *end != '\0') || pid <= 0 || pid > INT_MAX) {
        snprintf(why, cap, "started but has no main process");
        return -1;
    }
    uint64_t bytes = 0;
    if (app->spec.has_memory &&
        (!show_value(text, "MemoryMax", value, sizeof(value)) ||
         parse_u64(value, 10, &bytes) < 0 || bytes != app->spec.memory_bytes)) {
        snprintf(why, cap, "systemd reports MemoryMax=%.32s, not the %llu bytes of its drop-in",
                 value, (unsigned long long)app->spec.memory_bytes);
        return -1;
    }
    /* Restart=no overrides the vendor unit's Restart= (redis-server.service: always): systemd
     * restarting it on its own would fight baton's restart policy. */
    if (!show_value(text, "Restart", value, sizeof(value)) || strcmp(value, "no") != 0) {
        snprintf(why, cap, "systemd reports Restart=%.32s, not the drop-in's no", value);
        return -1;
    }
    char policy[16] = "";
    char mask[32] = "";
    show_value(text, "NUMAPolicy", policy, sizeof(policy));
    show_value(text, "NUMAMask", mask, sizeof(mask));
    char node[16];
    snprintf(node, sizeof(node), "%u", app->spec.node);
    if (app->spec.has_node && (strcmp(policy, "bind") != 0 || strcmp(mask, node) != 0)) {
        snprintf(why, cap, "systemd reports NUMAPolicy=%s NUMAMask=%s, not bind to node %s",
                 policy, mask, node);
        return -1;
    }
    int rc = show_value(text, "ControlGroup", value, sizeof(value))
                 ? read_cgroup_memory_max(apps, value, &bytes)
                 : -ENOENT;
    if (rc < 0) {
        snprintf(why, cap, "reading memory.max of its cgroup (ControlGroup=%.128s) failed: %s",
                 value, strerror(-rc));
        return -1;
    }
    app->pid = (pid_t)pid;
    app->unit_memory_max_bytes = bytes;
    snprintf(app->unit_numa_policy, sizeof(app->unit_numa_policy), "%s", policy);
    snprintf(app->unit_numa_mask, sizeof(app->unit_numa_mask), "%s", mask);
    return 0;
}

/* Readers for /proc/meminfo and the per-node /sys/devices/system/node/nodeN/meminfo. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "linux_abi.h"
#include "sysinfo.h"
#include "textfile.h"

/* Parses "<digits> kB" at value; returns 0 or -EINVAL / -ERANGE. */
static int parse_kb_value(const char *value, uint64_t *out_bytes)
{
    while (*value == ' ' || *value == '\t') {
        value++;
    }
    if (!isdigit((unsigned char)*value)) {
        return -EINVAL;
    }
    char *end;
    errno = 0;
    unsigned long long kb = strtoull(value, &end, 10);
    if (errno == ERANGE || kb > UINT64_MAX / MEMINFO_BYTES_PER_KB) {
        return -ERANGE;
    }
    size_t unit_len = strlen(MEMINFO_UNIT_KB);
    if (strncmp(end, MEMINFO_UNIT_KB, unit_len) != 0 ||
        (end[unit_len] != '\n' && end[unit_len] != '\0')) {
        return -EINVAL;
    }
    *out_bytes = kb * MEMINFO_BYTES_PER_KB;
    return 0;
}

int find_meminfo_kb(const char *text, const char *key, uint64_t *out_bytes)
{
    size_t key_len = strlen(key);
    for (const char *line = text; *line != '\0';) {
        const char *eol = strchr(line, '\n');
        const char *colon = memchr(line, ':', eol ? (size_t)(eol - line) : strlen(line));
        if (colon && (size_t)(colon - line) >= key_len) {
            const char *name = colon - key_len;
            /* The key is the last word before the colon ("Node 0 MemTotal:"). */
            if (memcmp(name, key, key_len) == 0 && (name == line || name[-1] == ' ')) {
                return parse_kb_value(colon + 1, out_bytes);
            }
        }
        if (!eol) {
            break;
        }
        line = eol + 1;
    }
    return -ENOENT;
}

int read_mem_info(const char *root, struct mem_info *out)
{
    char path[PATH_MAX];
    char text[PROC_FILE_MAX_BYTES];
    int rc = path_join(path, sizeof(path), root, PROC_MEMINFO_PATH);
    long len = rc < 0 ? rc : read_text_file(path, text, sizeof(text));
    if (len < 0) {
        return (int)len;
    }
    rc = find_meminfo_kb(text, MEMINFO_KEY_TOTAL, &out->total_bytes);
    if (rc == 0) {
        rc = find_meminfo_kb(text, MEMINFO_KEY_FREE, &out->free_bytes);
    }
    if (rc == 0) {
        rc = find_meminfo_kb(text, MEMINFO_KEY_AVAILABLE, &out->available_bytes);
    }
    return rc;
}

static int read_node(const char *root, const char *dir_name, struct numa_node *node)
{
    char path[PATH_MAX];
    char text[PROC_FILE_MAX_BYTES];
    int rc = path_printf(path, sizeof(path), "%s%s/%s/%s", root, SYSFS_NODE_DIR, dir_name,
                         SYSFS_NODE_MEMINFO_FILE);
    long len = rc < 0 ? rc : read_text_file(path, text, sizeof(text));
    if (len < 0) {
        return (int)len;
    }
    rc = find_meminfo_kb(text, MEMINFO_KEY_TOTAL, &node->total_bytes);
    rc = rc == 0 ? find_meminfo_kb(text, MEMINFO_KEY_FREE, &node->free_bytes) : rc;
    /* A meminfo without its keys is malformed, unlike a meminfo that is not there (-ENOENT). */
    return rc == -ENOENT ? -EINVAL : rc;
}

/* Inserts node keeping nodes sorted by id and at most NUMA_NODES_MAX of the lowest ids. */
static void insert_node(struct numa_nodes *out, const struct numa_node *node)
{
    size_t pos = out->count;
    while (pos > 0 && out->nodes[pos - 1].id > node->id) {
        pos--;
    }
    if (out->count == NUMA_NODES_MAX) {
        out->is_truncated = true;
        if (pos == NUMA_NODES_MAX) {
            return;
        }
        out->count--;
    }
    memmove(&out->nodes[pos + 1], &out->nodes[pos], (out->count - pos) * sizeof(out->nodes[0]));
    out->nodes[pos] = *node;
    out->count++;
}

int read_numa_nodes(const char *root, struct numa_nodes *out)
{
    char path[PATH_MAX];
    out->count = 0;
    out->is_truncated = false;
    int rc = path_join(path, sizeof(path), root, SYSFS_NODE_DIR);
    if (rc < 0) {
        return rc;
    }
    DIR *dir = opendir(path);
    if (!dir) {
        return -errno;
    }
    for (struct dirent *entry; (entry = readdir(dir)) != NULL;) {
        struct numa_node node = {0};
        if (parse_numbered_name(entry->d_name, SYSFS_NODE_PREFIX, &node.id) < 0) {
            continue; /* has_memory, online, possible, power, ... */
        }
        rc = read_node(root, entry->d_name, &node);
        if (rc == -ENOENT) {
            /* The kernel is registering or removing this node (memory plugged or unplugged a
             * moment ago): its meminfo is not there yet or any more. Skip it; the next read
             * sees it settled. */
            rc = 0;
            continue;
        }
        if (rc < 0) {
            break;
        }
        insert_node(out, &node);
    }
    closedir(dir);
    return rc < 0 ? rc : 0;
}

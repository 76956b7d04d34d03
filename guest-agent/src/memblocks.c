/* Readers for the memory-block view in /sys/devices/system/memory (block size, states). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "linux_abi.h"
#include "sysinfo.h"
#include "textfile.h"

/* Big enough for any block state ("online", "offline", "going-offline"). */
#define BLOCK_STATE_MAX_BYTES 64

int read_memory_block_size(const char *root, uint64_t *out_bytes)
{
    char path[PATH_MAX];
    char text[PROC_FILE_MAX_BYTES];
    int rc = path_join(path, sizeof(path), root, SYSFS_MEMORY_BLOCK_SIZE_PATH);
    long len = rc < 0 ? rc : read_text_file(path, text, sizeof(text));
    if (len < 0) {
        return (int)len;
    }
    return parse_u64(text, SYSFS_BLOCK_SIZE_BASE, out_bytes);
}

static int read_block_state(const char *root, const char *dir_name, bool *is_online)
{
    char path[PATH_MAX];
    char text[BLOCK_STATE_MAX_BYTES];
    int rc = path_printf(path, sizeof(path), "%s%s/%s/%s", root, SYSFS_MEMORY_DIR, dir_name,
                         SYSFS_MEMORY_BLOCK_STATE_FILE);
    long len = rc < 0 ? rc : read_text_file(path, text, sizeof(text));
    if (len < 0) {
        return (int)len;
    }
    text[strcspn(text, "\n")] = '\0';
    *is_online = strcmp(text, SYSFS_MEMORY_STATE_ONLINE) == 0;
    return 0;
}

int count_memory_blocks(const char *root, struct memory_blocks *out)
{
    char path[PATH_MAX];
    out->online = 0;
    out->offline = 0;
    int rc = path_join(path, sizeof(path), root, SYSFS_MEMORY_DIR);
    if (rc < 0) {
        return rc;
    }
    DIR *dir = opendir(path);
    if (!dir) {
        return -errno;
    }
    for (struct dirent *entry; (entry = readdir(dir)) != NULL;) {
        unsigned index;
        if (parse_numbered_name(entry->d_name, SYSFS_MEMORY_BLOCK_PREFIX, &index) < 0) {
            continue; /* block_size_bytes, auto_online_blocks, probe, power, ... */
        }
        bool is_online = false;
        rc = read_block_state(root, entry->d_name, &is_online);
        if (rc == -ENOENT) {
            rc = 0; /* the block was removed between readdir and open */
            continue;
        }
        if (rc < 0) {
            break;
        }
        if (is_online) {
            out->online++;
        } else {
            out->offline++;
        }
    }
    closedir(dir);
    return rc;
}

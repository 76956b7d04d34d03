/* An app's NUMA node: its memory size, and binding a process's memory to it. */
#define _GNU_SOURCE /* syscall */
#include "numa.h"

#include <errno.h>
#include <limits.h>
#include <linux/mempolicy.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent.h"
#include "linux_abi.h"
#include "sysinfo.h"
#include "textfile.h"

#define NODE_MASK_BITS (NUMA_NODE_ID_MAX + 1)
#define BITS_PER_WORD (8 * sizeof(unsigned long))
#define NODE_MASK_WORDS ((NODE_MASK_BITS + BITS_PER_WORD - 1) / BITS_PER_WORD)

int read_node_mem_total(const char *root, unsigned node, uint64_t *out_bytes)
{
    char path[PATH_MAX];
    char text[PROC_FILE_MAX_BYTES];
    int rc = path_printf(path, sizeof(path), "%s%s/%s%u/%s", root, SYSFS_NODE_DIR,
                         SYSFS_NODE_PREFIX, node, SYSFS_NODE_MEMINFO_FILE);
    long len = rc < 0 ? rc : read_text_file(path, text, sizeof(text));
    if (len < 0) {
        return (int)len;
    }
    rc = find_meminfo_kb(text, MEMINFO_KEY_TOTAL, out_bytes);
    return rc == -ENOENT ? -EINVAL : rc; /* -ENOENT means no such node */
}

int bind_memory_to_node(unsigned node)
{
    if (node >= NODE_MASK_BITS) {
        return -EINVAL;
    }
    unsigned long mask[NODE_MASK_WORDS] = {0};
    mask[node / BITS_PER_WORD] = 1UL << (node % BITS_PER_WORD);
    /* maxnode counts bits and the kernel reads one fewer than it is given. */
    if (syscall(SYS_set_mempolicy, MPOL_BIND, mask, NODE_MASK_BITS + 1) < 0) {
        return -errno;
    }
    return 0;
}

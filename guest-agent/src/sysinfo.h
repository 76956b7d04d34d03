/* The guest facts the agent reports: memory, memory blocks, NUMA nodes, boot id, uptime. */
#ifndef BATON_SYSINFO_H
#define BATON_SYSINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent.h"

/* All functions return 0 or a negative errno; root is the --root prefix. */

struct mem_info {
    uint64_t total_bytes;
    uint64_t free_bytes;
    uint64_t available_bytes;
};

struct numa_node {
    unsigned id;
    uint64_t total_bytes;
    uint64_t free_bytes;
};

struct numa_nodes {
    size_t count;
    bool is_truncated; /* more than NUMA_NODES_MAX nodes exist; the lowest ids are kept */
    struct numa_node nodes[NUMA_NODES_MAX];
};

struct memory_blocks {
    unsigned online;
    unsigned offline; /* every state other than "online" */
};

/* meminfo.c */
int find_meminfo_kb(const char *text, const char *key, uint64_t *out_bytes);
int read_mem_info(const char *root, struct mem_info *out);
int read_numa_nodes(const char *root, struct numa_nodes *out);

/* memblocks.c */
int read_memory_block_size(const char *root, uint64_t *out_bytes);
int count_memory_blocks(const char *root, struct memory_blocks *out);

/* memonline.c */
/* When SYSFS_MEMORY_AUTO_ONLINE_PATH reads "offline", writes "online_movable" so hot-plugged
 * memory comes online without a kernel argument. Returns 1 when it wrote, 0 when nothing was
 * needed, or a negative errno (-ENOENT: a kernel without memory hotplug); logs what it did. */
int ensure_memory_auto_online(const char *root);

/* kernel_info.c */
int read_boot_id(const char *root, char *out, size_t cap);
/* The kernel release (uname -r) from /proc, non-printable bytes replaced by '?'. */
int read_kernel_release(const char *root, char *out, size_t cap);
/* Whether the virtio_mem driver is registered (its sysfs driver directory exists). */
bool has_virtio_mem_driver(const char *root);
int read_uptime_ms(const char *root, uint64_t *out_ms);
/* Finds baton.heartbeat_ms=N in a command line; returns 1 and sets *out_ms when present and
 * valid, 0 when absent, -EINVAL when present but not a number. */
int parse_cmdline_heartbeat_ms(const char *cmdline, long *out_ms);
/* Clamps a heartbeat period to HEARTBEAT_MIN_MS..HEARTBEAT_MAX_MS. */
int clamp_heartbeat_ms(long ms);
/* The heartbeat period: option_ms if > 0, else the kernel command line, else the default;
 * clamped, and logged when something was ignored or changed. */
int resolve_heartbeat_ms(const char *root, long option_ms);
/* Whether baton.faults=1 is in a command line (the last baton.faults= wins). */
bool parse_cmdline_faults(const char *cmdline);
/* Reads the command line under root; false (logged) when it cannot be read. */
bool resolve_faults_enabled(const char *root);

#endif

/* An app's NUMA node: its memory size, and binding a process's memory to it. */
#ifndef BATON_NUMA_H
#define BATON_NUMA_H

#include <stdint.h>

/* MemTotal of root/sys/devices/system/node/node<node>/meminfo; 0 or -errno (-ENOENT: no
 * such node; -EINVAL: no MemTotal in it). */
int read_node_mem_total(const char *root, unsigned node, uint64_t *out_bytes);

/* set_mempolicy(MPOL_BIND, {node}) for the calling process; async-signal-safe (used between
 * fork and execve). Returns 0 or -errno. */
int bind_memory_to_node(unsigned node);

#endif

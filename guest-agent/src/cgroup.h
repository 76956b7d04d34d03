/* An app's cgroup v2 group: CGROUP_BATON_DIR/<name>, its memory limit, node and OOM kills. */
#ifndef BATON_CGROUP_H
#define BATON_CGROUP_H

#include <stddef.h>
#include <stdint.h>

#include "apps.h"

struct cgroup_setup {
    int procs_fd;       /* cgroup.procs opened for writing; the child writes its pid */
    uint64_t oom_kills; /* memory.events oom_kill before the app ran (0 when unreadable) */
};

/* Enables the memory (and, when available, cpuset) controller in the parents'
 * subtree_control, creates the app's group, writes memory.max (with memoryBytes) and
 * cpuset.mems (with node, when cpuset is available), reads the oom_kill baseline and opens
 * cgroup.procs. Returns 0, or -1 with "what failed: errno text" in err. */
int cgroup_prepare(const char *root, const struct app_spec *spec, struct cgroup_setup *out,
                   char *err, size_t cap);

/* memory.events oom_kill of the app's group; 0 or -errno. */
int cgroup_read_oom_kills(const char *root, const char *name, uint64_t *out);

/* Removes the app's (empty) group; a failure is logged. */
void cgroup_remove(const char *root, const char *name);

/* The value of the "key N" line of a flat-keyed cgroup file; 0, -ENOENT or -EINVAL. */
int find_keyed_value(const char *text, const char *key, uint64_t *out);

#endif

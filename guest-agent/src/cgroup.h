/* An app's cgroup v2 group (cgroup_apps_dir()/<name>), its memory limit, node and OOM kills. */
#ifndef BATON_CGROUP_H
#define BATON_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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

/* cgroup_kill.c. SIGKILLs every process left in the app's group: through cgroup.kill where
 * the kernel has it, else to each pid of cgroup.procs (call again until it returns 0). reaped
 * is the main process, already waited for. Returns how many listed processes were still alive
 * (0: nothing to wait for, also when the group is gone) or -errno. */
int cgroup_kill_leftovers(const char *root, const char *name, pid_t reaped);

/* Removes the app's (empty) group; a failure is logged. */
void cgroup_remove(const char *root, const char *name);

/* The value of the "key N" line of a flat-keyed cgroup file; 0, -ENOENT or -EINVAL. */
int find_keyed_value(const char *text, const char *key, uint64_t *out);

/* cgroup_base.c. Chooses where apps' groups go, once at start: when the agent's cgroup v2
 * (PROC_SELF_CGROUP_PATH) is not the root and holds only the agent (systemd Delegate=yes), the
 * agent moves itself to <own>/agent and apps go to <own>/apps/<name> (cgroup v2 allows no
 * processes in a group whose children have controllers); otherwise CGROUP_BATON_DIR as under
 * the busybox init. Returns whether the delegated cgroup is used; logs the choice. */
bool cgroup_choose_base(const char *root);
/* The group whose subtree_control gets the controllers for apps_dir (SYSFS_CGROUP_DIR or the
 * agent's own), and the group holding the apps' groups. */
const char *cgroup_apps_parent_dir(void);
const char *cgroup_apps_dir(void);
/* The path of the "0::" line of /proc/self/cgroup text into out; 0, -ENOENT (no cgroup v2
 * line) or -EINVAL (not absolute, "." or ".." parts, too long). */
int parse_own_cgroup(const char *text, char *out, size_t cap);

#endif

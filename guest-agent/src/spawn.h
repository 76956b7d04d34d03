/* Starting an app's process and watching for children that end. */
#ifndef BATON_SPAWN_H
#define BATON_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

/* What the child does before execve besides the v1 steps. */
struct spawn_options {
    int cgroup_procs_fd; /* >= 0: the child writes its pid there (joins the cgroup) */
    bool has_node;       /* bind the child's memory to node (MPOL_BIND) */
    unsigned node;
};

/* The step of the child that failed. */
enum spawn_step {
    SPAWN_STEP_CGROUP, /* writing its pid to cgroup.procs */
    SPAWN_STEP_NODE,   /* set_mempolicy */
    SPAWN_STEP_STDIN,  /* opening /dev/null */
    SPAWN_STEP_EXEC,   /* execve, or something before the child ran (fork, paths) */
};

/* Runs root + argv[0] with argv and the agent's environment, in a new process group, in the
 * cgroup and bound to the node opts asks for, stdin /dev/null, stdout/stderr inherited,
 * default signal dispositions. Returns 0 once execve succeeded (pid in *out_pid), or -errno
 * with the failed step in *out_step. */
int spawn_app(const char *root, char *const argv[], const struct spawn_options *opts,
              pid_t *out_pid, enum spawn_step *out_step);

/* Installs the SIGCHLD handler; returns a non-blocking fd that becomes readable whenever a
 * child may have ended (a self-pipe), or -errno. */
int watch_children(void);
/* Empties the self-pipe once its readiness was seen. */
void drain_child_signals(int fd);

#endif

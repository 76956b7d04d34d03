/* Starting an app's process and watching for children that end. */
#ifndef BATON_SPAWN_H
#define BATON_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

#include "accounts.h"

/* What the child does before execve besides the v1 steps. */
struct spawn_options {
    int cgroup_procs_fd; /* >= 0: the child writes its pid there (joins the cgroup) */
    bool has_node;       /* bind the child's memory to node (MPOL_BIND) */
    unsigned node;
    struct identity identity; /* is_set: setgroups, setgid, setuid before execve */
    const char *workdir;      /* NULL: the agent's */
    char *const *envp;        /* NULL: the agent's environment */
    int output_fd;            /* >= 0: stdout and stderr go there; else inherited */
};

/* Options with nothing set. */
#define SPAWN_OPTIONS_INIT {.cgroup_procs_fd = -1, .output_fd = -1}

/* The step of the child that failed. */
enum spawn_step {
    SPAWN_STEP_CGROUP, /* writing its pid to cgroup.procs */
    SPAWN_STEP_NODE,   /* set_mempolicy */
    SPAWN_STEP_STDIN,  /* opening /dev/null */
    SPAWN_STEP_OUTPUT, /* dup2 of output_fd */
    SPAWN_STEP_IDENTITY, /* setgroups, setgid, setuid */
    SPAWN_STEP_WORKDIR,  /* chdir */
    SPAWN_STEP_EXEC,   /* execve, or something before the child ran (fork, paths) */
};

/* Runs root + argv[0] with argv and the environment opts gives, in a new process group, in
 * the cgroup, bound to the node, as the identity and in the workdir opts asks for, stdin
 * /dev/null, default signal dispositions. Returns 0 once execve succeeded (pid in *out_pid), or -errno
 * with the failed step in *out_step. */
int spawn_app(const char *root, char *const argv[], const struct spawn_options *opts,
              pid_t *out_pid, enum spawn_step *out_step);

/* A close-on-exec copy of fd numbered 3 or above (fd itself closed), so that the child's
 * dup2 onto stdin, stdout and stderr can never replace it; fd unchanged when it is already
 * above 2. Returns the fd, or -errno (fd closed). */
int lift_fd(int fd);

/* Installs the SIGCHLD handler; returns a non-blocking fd that becomes readable whenever a
 * child may have ended (a self-pipe), or -errno. */
int watch_children(void);
/* Empties the self-pipe once its readiness was seen. */
void drain_child_signals(int fd);

#endif

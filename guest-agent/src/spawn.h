/* Starting an app's process and watching for children that end. */
#ifndef BATON_SPAWN_H
#define BATON_SPAWN_H

#include <sys/types.h>

/* Runs root + argv[0] with argv and the agent's environment, in a new process group, stdin
 * /dev/null, stdout/stderr inherited, default signal dispositions. Returns 0 once execve
 * succeeded (pid in *out_pid), or -errno of the failed step. */
int spawn_app(const char *root, char *const argv[], pid_t *out_pid);

/* Installs the SIGCHLD handler; returns a non-blocking fd that becomes readable whenever a
 * child may have ended (a self-pipe), or -errno. */
int watch_children(void);
/* Empties the self-pipe once its readiness was seen. */
void drain_child_signals(int fd);

#endif

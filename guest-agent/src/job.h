/* A command the agent runs for an app besides the app itself (prepare, an exec health check,
 * systemctl): its output's tail kept for messages, its exit collected by the reaper. */
#ifndef BATON_JOB_H
#define BATON_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent.h"
#include "spawn.h"

struct job {
    pid_t pid;    /* 0: none running */
    int out_fd;   /* read end of its stdout and stderr (non-blocking); -1 when closed */
    bool is_done; /* reaped: status holds the wait status */
    int status;
    char tail[COMMAND_TAIL_BYTES + 1]; /* the last bytes of its output */
    size_t tail_len;
};

#define JOB_INIT {.out_fd = -1}

/* Starts root + argv[0] with opts (its output captured). Returns 0, or -errno with the failed
 * step in *step. */
int job_start(struct job *job, const char *root, char *const argv[],
              const struct spawn_options *opts, enum spawn_step *step);

/* Reads what the command wrote so far into its tail (keeps the last COMMAND_TAIL_BYTES). */
void job_read_output(struct job *job);

/* The reaper found pid: true (and the job done) when it is this job's. */
bool job_claim_exit(struct job *job, pid_t pid, int status);

/* SIGKILLs the command's process group (if running) and closes its output; a later reap of
 * its pid finds no job. */
void job_abandon(struct job *job);

/* Closes the output of a done job. */
void job_close(struct job *job);

/* The tail as one line of printable text (newlines and controls shown as ' '), trimmed. */
const char *job_tail_text(struct job *job);

/* "exit code N" or "signal N (name)" for a wait status. */
void describe_wait_status(int status, char *out, size_t cap);

/* Runs argv to completion, waiting at most timeout_ms (then SIGKILL): 0 with its wait status
 * and output tail, or -errno (-ETIMEDOUT) when it could not run or finish. Blocks the caller:
 * only for commands that answer quickly (systemctl). */
int job_run_sync(const char *root, char *const argv[], int timeout_ms, struct job *job);

#endif

/* baton-agent entry point: options, signals, then the main loop until SIGTERM/SIGINT. */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>

#include "agent.h"
#include "cgroup.h"
#include "cli.h"
#include "log.h"
#include "session.h"
#include "sysinfo.h"

static volatile sig_atomic_t should_stop;

static void on_stop_signal(int signo)
{
    (void)signo;
    should_stop = 1;
}

static void install_signal_handlers(void)
{
    /* No SA_RESTART: poll() and sleeps return EINTR so the loop sees should_stop at once. */
    struct sigaction stop_action = {.sa_handler = on_stop_signal};
    sigemptyset(&stop_action.sa_mask);
    sigaction(SIGTERM, &stop_action, NULL);
    sigaction(SIGINT, &stop_action, NULL);
    /* A host that closes a socket port must surface as EPIPE, not kill the agent. */
    struct sigaction ignore_action = {.sa_handler = SIG_IGN};
    sigemptyset(&ignore_action.sa_mask);
    sigaction(SIGPIPE, &ignore_action, NULL);
}

int main(int argc, char **argv)
{
    struct agent_config cfg;
    switch (parse_cli(argc, argv, &cfg)) {
    case CLI_EXIT_OK:
        return 0;
    case CLI_EXIT_USAGE:
        return CLI_USAGE_EXIT_STATUS;
    case CLI_RUN:
        break;
    }
    install_signal_handlers();
    cfg.heartbeat_ms = resolve_heartbeat_ms(cfg.root, cfg.heartbeat_option_ms);
    cfg.is_faults_enabled = resolve_faults_enabled(cfg.root);
    log_msg("version %s starting; heartbeat %d ms", AGENT_VERSION, cfg.heartbeat_ms);
    /* Before any app starts: hot-plugged memory must come online, apps' cgroups need a home.
     * Failures are logged and the agent goes on (memory stays offline; app starts report it). */
    (void)ensure_memory_auto_online(cfg.root);
    (void)cgroup_choose_base(cfg.root);
    /* Processes an app leaves behind (PostgreSQL's backends after the postmaster died) become
     * the agent's children, so the agent reaps them once their cgroup is emptied. */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
        log_msg("becoming the subreaper of the apps' processes failed: %s", strerror(errno));
    }
    run_agent(&cfg, &should_stop);
    log_msg("stopping");
    return 0;
}

/* Command-line options of baton-agent. */
#ifndef BATON_CLI_H
#define BATON_CLI_H

#include "agent.h"

enum cli_action {
    CLI_RUN,
    CLI_EXIT_OK,    /* --help or --version was printed */
    CLI_EXIT_USAGE, /* bad arguments; usage was printed to stderr; exit status 2 */
};

#define CLI_USAGE_EXIT_STATUS 2

/* Fills cfg from argv; heartbeat_ms is left for resolve_heartbeat_ms(). */
enum cli_action parse_cli(int argc, char **argv, struct agent_config *cfg);

#endif

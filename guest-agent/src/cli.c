/* Command-line options of baton-agent. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linux_abi.h"
#include "log.h"

static const char USAGE[] =
    "Usage: baton-agent [options]\n"
    "\n"
    "Guest agent for baton: talks JSON lines to the host over the virtio-serial port\n"
    "named " AGENT_PORT_NAME ".\n"
    "\n"
    "Options:\n"
    "  --port PATH         use PATH (character device, tty or unix socket) instead of\n"
    "                      discovering the port in " SYSFS_VIRTIO_PORTS_DIR "\n"
    "  --root DIR          prefix for every /proc, /sys and /dev path (test fixtures)\n"
    "  --heartbeat-ms N    heartbeat period in ms (default: baton.heartbeat_ms= from the\n"
    "                      kernel command line, else 1000; clamped to 50..60000)\n"
    "  --once              exit with status 0 when the host closes the channel instead of\n"
    "                      waiting for it to reconnect\n"
    "  --version           print the agent version and exit\n"
    "  --help              print this help and exit\n";

enum { OPT_PORT = 256, OPT_ROOT, OPT_HEARTBEAT_MS, OPT_ONCE, OPT_VERSION, OPT_HELP };

static const struct option OPTIONS[] = {
    {"port", required_argument, NULL, OPT_PORT},
    {"root", required_argument, NULL, OPT_ROOT},
    {"heartbeat-ms", required_argument, NULL, OPT_HEARTBEAT_MS},
    {"once", no_argument, NULL, OPT_ONCE},
    {"version", no_argument, NULL, OPT_VERSION},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static enum cli_action usage_error(const char *problem, const char *arg)
{
    log_msg("%s: %s", problem, arg);
    fputs(USAGE, stderr);
    return CLI_EXIT_USAGE;
}

enum cli_action parse_cli(int argc, char **argv, struct agent_config *cfg)
{
    *cfg = (struct agent_config){.root = ""};
    opterr = 0; /* errors are reported with the agent's prefix below */
    optind = 1;
    for (;;) {
        int index_before = optind;
        int opt = getopt_long(argc, argv, ":", OPTIONS, NULL);
        if (opt == -1) {
            break;
        }
        const char *arg_text = index_before < argc ? argv[index_before] : "";
        switch (opt) {
        case OPT_PORT:
            cfg->port_path = optarg;
            break;
        case OPT_ROOT:
            cfg->root = optarg;
            break;
        case OPT_HEARTBEAT_MS: {
            char *end;
            errno = 0;
            long ms = strtol(optarg, &end, 10);
            if (errno != 0 || *end != '\0' || end == optarg || ms <= 0) {
                return usage_error("--heartbeat-ms needs a positive integer", optarg);
            }
            cfg->heartbeat_option_ms = ms;
            break;
        }
        case OPT_ONCE:
            cfg->is_once = true;
            break;
        case OPT_VERSION:
            printf("baton-agent %s\n", AGENT_VERSION);
            return CLI_EXIT_OK;
        case OPT_HELP:
            fputs(USAGE, stdout);
            return CLI_EXIT_OK;
        case ':':
            return usage_error("option needs a value", arg_text);
        default:
            return usage_error("unknown option", arg_text);
        }
    }
    if (optind < argc) {
        return usage_error("unexpected argument", argv[optind]);
    }
    return CLI_RUN;
}

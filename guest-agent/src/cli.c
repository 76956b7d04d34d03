/* Command-line options of baton-agent. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
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
    "  --root DIR          prefix for every /proc, /sys, /dev, /apps and /data path (test\n"
    "                      fixtures)\n"
    "  --heartbeat-ms N    heartbeat period in ms (default: baton.heartbeat_ms= from the\n"
    "                      kernel command line, else 1000; clamped to 50..60000)\n"
    "  --once              exit with status 0 when the host closes the channel instead of\n"
    "                      waiting for it to reconnect\n"
    "  --disk-wait-ms N    how long app.start waits for its disk to appear (default 5000)\n"
    "  --version           print the agent version and exit\n"
    "  --help              print this help and exit\n";

enum {
    OPT_PORT = 256,
    OPT_ROOT,
    OPT_HEARTBEAT_MS,
    OPT_ONCE,
    OPT_DISK_WAIT_MS,
    OPT_VERSION,
    OPT_HELP,
};

static const struct option OPTIONS[] = {
    {"port", required_argument, NULL, OPT_PORT},
    {"root", required_argument, NULL, OPT_ROOT},
    {"heartbeat-ms", required_argument, NULL, OPT_HEARTBEAT_MS},
    {"once", no_argument, NULL, OPT_ONCE},
    {"disk-wait-ms", required_argument, NULL, OPT_DISK_WAIT_MS},
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

/* A decimal integer in min..INT_MAX; false otherwise. */
static bool parse_ms(const char *text, long min, long *out)
{
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno != 0 || *end != '\0' || end == text || value < min || value > INT_MAX) {
        return false;
    }
    *out = value;
    return true;
}

enum cli_action parse_cli(int argc, char **argv, struct agent_config *cfg)
{
    *cfg = (struct agent_config){.root = "", .disk_wait_ms = DISK_WAIT_DEFAULT_MS};
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
        case OPT_HEARTBEAT_MS:
            if (!parse_ms(optarg, 1, &cfg->heartbeat_option_ms)) {
                return usage_error("--heartbeat-ms needs a positive integer", optarg);
            }
            break;
        case OPT_DISK_WAIT_MS: {
            long ms;
            if (!parse_ms(optarg, 0, &ms)) {
                return usage_error("--disk-wait-ms needs a non-negative integer", optarg);
            }
            cfg->disk_wait_ms = (int)ms;
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

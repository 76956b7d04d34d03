/* Tests of the real binary's command line: --help, --version, and bad arguments. */
#include <stdio.h>
#include <sys/wait.h>

#include "agent_harness.h"
#include "check.h"

/* Runs the agent with one or two arguments; checks its exit status and that its combined
 * output contains expected. */
#define CHECK_CLI(arg1, arg2, status, expected) \
    check_cli(__FILE__, __LINE__, arg1, arg2, status, expected)
static void check_cli(const char *file, int at, const char *arg1, const char *arg2,
                      int expected_status, const char *expected)
{
    char output[4096];
    const char *args[] = {arg1, arg2, NULL};
    int status = run_agent_capture(args, output, sizeof(output));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != expected_status || !strstr(output, expected)) {
        check_fail(file, at, "baton-agent %s %s: status %d, output:\n%s\n      wanted status %d "
                   "and: %s", arg1, arg2 ? arg2 : "", WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                   output, expected_status, expected);
    }
}

static void test_cli_help_and_bad_arguments(void)
{
    CHECK_CLI("--help", NULL, 0, "Usage: baton-agent [options]");
    CHECK_CLI("--version", NULL, 0, "baton-agent 0.1.0\n");
    CHECK_CLI("--frobnicate", NULL, 2, "baton-agent: unknown option: --frobnicate\nUsage:");
    CHECK_CLI("stray", NULL, 2, "baton-agent: unexpected argument: stray\nUsage:");
    CHECK_CLI("--port", NULL, 2, "baton-agent: option needs a value: --port\nUsage:");
    CHECK_CLI("--heartbeat-ms", "0", 2, "--heartbeat-ms needs a positive integer: 0");
    CHECK_CLI("--heartbeat-ms", "5s", 2, "--heartbeat-ms needs a positive integer: 5s");
    CHECK_CLI("--disk-wait-ms", "-1", 2, "--disk-wait-ms needs a non-negative integer: -1");
    CHECK_CLI("--help", NULL, 0, "--disk-wait-ms N");
}

void register_cli_tests(void)
{
    add_test("cli: --help, --version and bad arguments", test_cli_help_and_bad_arguments);
}

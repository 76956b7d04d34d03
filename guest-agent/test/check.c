/* A minimal test runner: named cases, each run in a child process so a crash is a failure. */
#include "check.h"

#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define TESTS_MAX 128
#define TEST_TIMEOUT_SECONDS 20

struct test_env test_env;
int check_failures;

static struct {
    const char *name;
    test_fn run;
} tests[TESTS_MAX];
static size_t test_count;

void add_test(const char *name, test_fn run)
{
    if (test_count == TESTS_MAX) {
        fprintf(stderr, "too many tests; raise TESTS_MAX\n");
        exit(1);
    }
    tests[test_count].name = name;
    tests[test_count].run = run;
    test_count++;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

void remove_tree(const char *root)
{
    nftw(root, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

void check_fail(const char *file, int line, const char *fmt, ...)
{
    check_failures++;
    fprintf(stdout, "    %s:%d: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

/* Runs one case in a child; returns true when it passed. */
static bool run_case(size_t index)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return false;
    }
    if (pid == 0) {
        alarm(TEST_TIMEOUT_SECONDS);
        tests[index].run();
        fflush(stdout);
        _exit(check_failures == 0 ? 0 : 1);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
    }
    bool passed = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (WIFSIGNALED(status)) {
        printf("    crashed: %s\n", WTERMSIG(status) == SIGALRM ? "timed out"
                                                              : strsignal(WTERMSIG(status)));
    }
    printf("%s %s\n", passed ? "ok  " : "FAIL", tests[index].name);
    return passed;
}

static int usage(const char *argv0)
{
    fprintf(stderr, "usage: %s --agent PATH --app PATH --fixtures DIR [NAME-SUBSTRING]\n",
            argv0);
    return 2;
}

int main(int argc, char **argv)
{
    const char *filter = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--agent") == 0 && i + 1 < argc) {
            test_env.agent_path = argv[++i];
        } else if (strcmp(argv[i], "--app") == 0 && i + 1 < argc) {
            test_env.app_path = argv[++i];
        } else if (strcmp(argv[i], "--fixtures") == 0 && i + 1 < argc) {
            test_env.fixtures_root = argv[++i];
        } else if (argv[i][0] != '-' && !filter) {
            filter = argv[i];
        } else {
            return usage(argv[0]);
        }
    }
    if (!test_env.agent_path || !test_env.app_path || !test_env.fixtures_root) {
        return usage(argv[0]);
    }
    signal(SIGPIPE, SIG_IGN);
    register_framing_tests();
    register_sysinfo_tests();
    register_protocol_tests();
    register_messages_tests();
    register_app_request_tests();
    register_disk_tests();
    register_cgroup_base_tests();
    register_cgroup_kill_tests();
    register_agent_tests();
    register_agent_steady_tests();
    register_agent_link_tests();
    register_agent_app_tests();
    register_agent_disk_tests();
    register_supervision_request_tests();
    register_fault_request_tests();
    register_agent_supervision_tests();
    register_agent_health_tests();
    register_agent_leftover_tests();
    register_agent_severity_tests();
    register_operator_request_tests();
    register_agent_operator_tests();
    register_agent_unit_tests();
    register_cli_tests();

    int passed = 0;
    int failed = 0;
    for (size_t i = 0; i < test_count; i++) {
        if (filter && !strstr(tests[i].name, filter)) {
            continue;
        }
        if (run_case(i)) {
            passed++;
        } else {
            failed++;
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

/* A minimal test runner: named cases, each run in a child process so a crash is a failure. */
#ifndef BATON_TEST_CHECK_H
#define BATON_TEST_CHECK_H

#include <stdbool.h>
#include <string.h>

struct test_env {
    const char *agent_path;    /* the real out/baton-agent */
    const char *app_path;      /* out/test-app, started through app.start */
    const char *fixtures_root; /* test/fixtures/root */
};

extern struct test_env test_env;
extern int check_failures; /* failed checks in the current case (in its child process) */

typedef void (*test_fn)(void);

void add_test(const char *name, test_fn run);
void check_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Removes a scratch directory and everything below it (links are removed, not followed). */
void remove_tree(const char *root);

#define CHECK(cond)                                    \
    do {                                               \
        if (!(cond)) {                                 \
            check_fail(__FILE__, __LINE__, "%s", #cond); \
        }                                              \
    } while (0)

#define CHECK_STR_EQ(actual, expected)                                                      \
    do {                                                                                    \
        const char *check_actual_ = (actual);                                               \
        const char *check_expected_ = (expected);                                           \
        if (!check_actual_ || strcmp(check_actual_, check_expected_) != 0) {                \
            check_fail(__FILE__, __LINE__, "%s\n      got:      %s\n      expected: %s", \
                       #actual, check_actual_ ? check_actual_ : "(null)", check_expected_); \
        }                                                                                   \
    } while (0)

#define CHECK_INT_EQ(actual, expected)                                                     \
    do {                                                                                   \
        long long check_actual_ = (long long)(actual);                                     \
        long long check_expected_ = (long long)(expected);                                 \
        if (check_actual_ != check_expected_) {                                            \
            check_fail(__FILE__, __LINE__, "%s: got %lld, expected %lld", #actual,          \
                       check_actual_, check_expected_);                                     \
        }                                                                                  \
    } while (0)

/* Suites register their cases. */
void register_framing_tests(void);
void register_sysinfo_tests(void);
void register_protocol_tests(void);
void register_agent_tests(void);
void register_agent_link_tests(void);
void register_agent_steady_tests(void);
void register_cli_tests(void);
void register_messages_tests(void);
void register_app_request_tests(void);
void register_disk_tests(void);
void register_cgroup_base_tests(void);
void register_cgroup_kill_tests(void);
void register_agent_leftover_tests(void);
void register_agent_app_tests(void);
void register_agent_disk_tests(void);
void register_supervision_request_tests(void);
void register_fault_request_tests(void);
void register_agent_supervision_tests(void);
void register_agent_health_tests(void);
void register_agent_severity_tests(void);
void register_operator_request_tests(void);
void register_agent_operator_tests(void);
void register_agent_unit_tests(void);

#endif

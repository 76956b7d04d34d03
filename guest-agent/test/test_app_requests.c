/* Tests for app.*, fault.panic validation and answers that need no process, in-process. */
#include <jansson.h>
#include <stdio.h>

#include "answer.h"
#include "check.h"
#include "messages.h"

#define START(fields) "{\"type\":\"app.start\",\"id\":1," fields "}"
#define ARGV_OK "\"argv\":[\"/apps/kv/bin\"]"
#define NAME_OK "\"name\":\"kv\""

#define NAME_RULE "name must be a string of 1-32 characters [a-z0-9-]"
#define ARGV_RULE "argv must be an array of 1-32 strings"
#define ARGV0_RULE "argv[0] must be an absolute path without .."
#define ARGV_OR_UNIT_RULE "exactly one of argv and unit must be given"
#define DISK_RULE "disk must be an object { serial, mountPoint, owner?, prepare? }"
#define SERIAL_RULE "disk.serial must be a string of 1-20 characters [A-Za-z0-9_-]"
#define MOUNT_RULE "disk.mountPoint must be an absolute path of at most 256 bytes without .., not /"

static void check_start_rejected(const char *file, int at, const char *line, const char *message)
{
    check_failure(file, at, line, 1, "bad-request", message);
}
#define CHECK_START_REJECTED(line, message) check_start_rejected(__FILE__, __LINE__, line, message)

static void test_app_start_names_the_bad_field(void)
{
    CHECK_START_REJECTED(START(ARGV_OK), NAME_RULE);
    CHECK_START_REJECTED(START("\"name\":\"\"," ARGV_OK), NAME_RULE);
    CHECK_START_REJECTED(START("\"name\":\"Kv\"," ARGV_OK), NAME_RULE);
    CHECK_START_REJECTED(START("\"name\":\"k_v\"," ARGV_OK), NAME_RULE);
    /* jansson refuses \u0000 itself; the NUL checks behind it are a second line. */
    CHECK_FAILURE(START("\"name\":\"k\\u0000v\"," ARGV_OK), NO_ID, "bad-json");
    CHECK_START_REJECTED(START("\"name\":7," ARGV_OK), NAME_RULE);
    CHECK_START_REJECTED(START("\"name\":\"abcdefghijklmnopqrstuvwxyz0123456\"," ARGV_OK),
                         NAME_RULE);
    CHECK_START_REJECTED(START(NAME_OK), ARGV_OR_UNIT_RULE);
    CHECK_START_REJECTED(START(NAME_OK ",\"argv\":[]"), ARGV_RULE);
    CHECK_START_REJECTED(START(NAME_OK ",\"argv\":\"/apps/kv\""), ARGV_RULE);
    CHECK_START_REJECTED(START(NAME_OK ",\"argv\":[\"/apps/kv\",1]"),
                         "argv[1] must be a string of at most 256 bytes without NUL");
    CHECK_START_REJECTED(START(NAME_OK ",\"argv\":[\"apps/kv\"]"), ARGV0_RULE);
    CHECK_START_REJECTED(START(NAME_OK ",\"argv\":[\"/\"]"), ARGV0_RULE);
    CHECK_START_REJECTED(START(NAME_OK ",\"argv\":[\"/apps/../bin/sh\"]"), ARGV0_RULE);
    CHECK_START_REJECTED(START(NAME_OK ",\"argv\":[\"/usr/bin/..\"]"), ARGV0_RULE);
    CHECK_START_REJECTED(START(NAME_OK ",\"argv\":[\"/usr/bin/x\\ny\"]"), ARGV0_RULE);
    CHECK_START_REJECTED(START(NAME_OK ",\"argv\":[\"/bin/sh\"],\"unit\":\"a.service\""),
                         ARGV_OR_UNIT_RULE);
}

static void test_app_start_argv_limits(void)
{
    static char line[LINE_MAX_BYTES];
    char arg[APP_ARG_MAX_BYTES + 2];
    memset(arg, 'a', sizeof(arg) - 1);
    arg[sizeof(arg) - 1] = '\0'; /* 257 bytes */
    snprintf(line, sizeof(line), START(NAME_OK ",\"argv\":[\"/apps/kv\",\"%s\"]"), arg);
    CHECK_START_REJECTED(line, "argv[1] must be a string of at most 256 bytes without NUL");
    int len = snprintf(line, sizeof(line), "{\"type\":\"app.start\",\"id\":1," NAME_OK
                       ",\"argv\":[\"/apps/kv\"");
    for (int i = 1; i <= APP_ARGV_MAX; i++) { /* 33 strings */
        len += snprintf(line + len, sizeof(line) - (size_t)len, ",\"%d\"", i);
    }
    snprintf(line + len, sizeof(line) - (size_t)len, "]}");
    CHECK_START_REJECTED(line, ARGV_RULE);

    /* The largest accepted request: 32 strings, one of 256 bytes, a 32-character name. */
    arg[APP_ARG_MAX_BYTES] = '\0';
    len = snprintf(line, sizeof(line), "{\"name\":\"abcdefghijklmnopqrstuvwxyz012345\","
                   "\"argv\":[\"/apps/kv/bin\",\"%s\"", arg);
    for (int i = 2; i < APP_ARGV_MAX; i++) {
        len += snprintf(line + len, sizeof(line) - (size_t)len, ",\"\"");
    }
    snprintf(line + len, sizeof(line) - (size_t)len, "]}");
    json_t *request = json_loads(line, 0, NULL);
    struct app_spec spec;
    char err[256] = "";
    CHECK(parse_app_start(request, &spec, err, sizeof(err)));
    CHECK_INT_EQ(spec.argc, APP_ARGV_MAX);
    CHECK_STR_EQ(spec.args, "/apps/kv/bin");
    CHECK_STR_EQ(spec.args + strlen("/apps/kv/bin") + 1, arg);
    CHECK(!spec.has_disk);
    json_decref(request);
}

static void test_app_start_disk_fields(void)
{
    CHECK_START_REJECTED(START(NAME_OK "," ARGV_OK ",\"disk\":\"kv-data\""), DISK_RULE);
    CHECK_START_REJECTED(START(NAME_OK "," ARGV_OK ",\"disk\":null"), DISK_RULE);
    CHECK_START_REJECTED(START(NAME_OK "," ARGV_OK ",\"disk\":{\"mountPoint\":\"/data/kv\"}"),
                         SERIAL_RULE);
    const char *bad_serials[] = {"\"\"", "\"a b\"", "\"a.b\"", "\"123456789012345678901\"", "5"};
    for (size_t i = 0; i < sizeof(bad_serials) / sizeof(bad_serials[0]); i++) {
        char line[512];
        snprintf(line, sizeof(line),
                 START(NAME_OK "," ARGV_OK ",\"disk\":{\"serial\":%s,\"mountPoint\":\"/data/kv\"}"),
                 bad_serials[i]);
        CHECK_START_REJECTED(line, SERIAL_RULE);
    }
    const char *bad_mounts[] = {"\"/\"", "\"/data/../etc\"", "\"/data/a/..\"", "\"\"",
                                "\"data/kv\"", "\"/data/\\tkv\"", "[]"};
    for (size_t i = 0; i < sizeof(bad_mounts) / sizeof(bad_mounts[0]); i++) {
        char line[512];
        snprintf(line, sizeof(line),
                 START(NAME_OK "," ARGV_OK ",\"disk\":{\"serial\":\"kv-data\",\"mountPoint\":%s}"),
                 bad_mounts[i]);
        CHECK_START_REJECTED(line, MOUNT_RULE);
    }
    CHECK_START_REJECTED(START(NAME_OK "," ARGV_OK ",\"disk\":{\"serial\":\"kv-data\"}"),
                         MOUNT_RULE);
    /* A valid disk whose serial no fixture disk has: with no wait, disk-not-found at once. */
    CHECK_FAILURE_MESSAGE(START(NAME_OK "," ARGV_OK ",\"disk\":{\"serial\":\"Nope_1-x\","
                                "\"mountPoint\":\"/data/kv\"}"),
                          1, "disk-not-found",
                          "no disk with serial Nope_1-x in /sys/block after 0 ms: No such file "
                          "or directory");
    CHECK_INT_EQ(answer_apps.slots[0].state, APP_FREE);
}

static void test_app_stop_fields_and_states(void)
{
    CHECK_FAILURE_MESSAGE("{\"type\":\"app.stop\",\"id\":2}", 2, "bad-request", NAME_RULE);
    const char *bad_timeouts[] = {"-1", "\"5\"", "1.5", "9007199254740992", "null"};
    for (size_t i = 0; i < sizeof(bad_timeouts) / sizeof(bad_timeouts[0]); i++) {
        char line[256];
        snprintf(line, sizeof(line), "{\"type\":\"app.stop\",\"id\":3,\"name\":\"kv\","
                 "\"timeoutMs\":%s}", bad_timeouts[i]);
        CHECK_FAILURE_MESSAGE(line, 3, "bad-request", "timeoutMs must be an integer in 0..2^53-1");
    }
    CHECK_FAILURE_MESSAGE("{\"type\":\"app.stop\",\"id\":4,\"name\":\"kv\",\"timeoutMs\":0}", 4,
                          "not-running", "app kv is not running");
    reset_answers();
    struct app *starting = &answer_apps.slots[3];
    *starting = (struct app){.state = APP_STARTING, .spec = {.name = "kv"}};
    CHECK_FAILURE_MESSAGE("{\"type\":\"app.stop\",\"id\":5,\"name\":\"kv\"}", 5, "not-running",
                          "app kv is still starting");
    CHECK_FAILURE_MESSAGE(START(NAME_OK "," ARGV_OK), 1, "already-running",
                          "app kv is already starting");
    starting->state = APP_STOPPING;
    starting->pid = 4242;
    CHECK_FAILURE_MESSAGE("{\"type\":\"app.stop\",\"id\":6,\"name\":\"kv\"}", 6, "not-running",
                          "app kv is already stopping");
    CHECK_FAILURE_MESSAGE(START(NAME_OK "," ARGV_OK), 1, "already-running",
                          "app kv is already running (pid 4242)");
    CHECK_FAILURE("{\"type\":\"app.stop\",\"name\":\"kv\"}", NO_ID, "bad-request");
}

static void test_app_list_and_full_table(void)
{
    CHECK_STR_EQ(answer("{\"type\":\"app.list\",\"id\":9}"),
                 "{\"type\":\"reply\",\"id\":9,\"ok\":true,\"result\":{\"apps\":[]}}\n");
    CHECK_FAILURE("{\"type\":\"app.list\"}", NO_ID, "bad-request");
    for (size_t i = 0; i < APPS_MAX; i++) {
        struct app *app = &answer_apps.slots[i];
        *app = (struct app){.state = i == 0 ? APP_STARTING : APP_RUNNING, .pid = (pid_t)(100 + i)};
        snprintf(app->spec.name, sizeof(app->spec.name), "a%zu", i);
    }
    answer_apps.slots[7].state = APP_EXITED;
    answer_apps.slots[7].is_exit_pending = true; /* not delivered: the slot stays taken */
    CHECK_FAILURE_MESSAGE(START(NAME_OK "," ARGV_OK), 1, "too-many-apps",
                          "app kv: all 8 app slots are in use");
    answer_apps.slots[6].state = APP_STOPPING;
    CHECK_STR_EQ(answer("{\"type\":\"app.list\",\"id\":10}"),
                 "{\"type\":\"reply\",\"id\":10,\"ok\":true,\"result\":{\"apps\":["
                 "{\"name\":\"a1\",\"pid\":101,\"running\":true},"
                 "{\"name\":\"a2\",\"pid\":102,\"running\":true},"
                 "{\"name\":\"a3\",\"pid\":103,\"running\":true},"
                 "{\"name\":\"a4\",\"pid\":104,\"running\":true},"
                 "{\"name\":\"a5\",\"pid\":105,\"running\":true},"
                 "{\"name\":\"a6\",\"pid\":106,\"running\":true},"
                 "{\"name\":\"a7\",\"pid\":107,\"running\":false}]}}\n");
}

static void test_fault_panic_needs_the_kernel_flag(void)
{
    CHECK_FAILURE_MESSAGE("{\"type\":\"fault.panic\",\"id\":1}", 1, "faults-disabled",
                          "fault injection is off; it needs baton.faults=1 on the kernel "
                          "command line");
    CHECK_FAILURE("{\"type\":\"fault.panic\"}", NO_ID, "bad-request");
    char out[OUT_LINE_BYTES];
    struct agent_config cfg = {.root = test_env.fixtures_root, .is_faults_enabled = true};
    struct protocol_ctx ctx = {.cfg = &cfg};
    const char *line = "{\"type\":\"fault.panic\",\"id\":2}";
    protocol_handle_line(&ctx, line, strlen(line), out, sizeof(out));
    CHECK_STR_EQ(out, "{\"type\":\"reply\",\"id\":2,\"ok\":true,\"result\":{}}\n");
    CHECK(ctx.should_panic);
}

void register_app_request_tests(void)
{
    add_test("app requests: app.start names the field that breaks the rules",
             test_app_start_names_the_bad_field);
    add_test("app requests: argv allows 32 strings of 256 bytes and no more",
             test_app_start_argv_limits);
    add_test("app requests: disk serial and mountPoint are validated",
             test_app_start_disk_fields);
    add_test("app requests: app.stop timeoutMs, not-running and already-running",
             test_app_stop_fields_and_states);
    add_test("app requests: app.list lists processes; a full table is too-many-apps",
             test_app_list_and_full_table);
    add_test("faults: fault.panic needs baton.faults=1 and asks for the panic after the reply",
             test_fault_panic_needs_the_kernel_flag);
}

/* In-process tests of the v2 requests: app.start's supervision fields and mem.answer. */
#include <jansson.h>
#include <stdio.h>

#include "answer.h"
#include "check.h"
#include "messages.h"

#define START(fields) \
    "{\"type\":\"app.start\",\"id\":1,\"name\":\"kv\",\"argv\":[\"/apps/kv\"]," fields "}"
#define MEMORY_RULE "memoryBytes must be an integer in 1..2^53-1"
#define NODE_RULE "node must be an integer in 0..1023"
#define HEALTH_RULE                                                                          \
    "health must be an object { kind?, port, intervalMs, timeoutMs, failuresToUnhealthy, "  \
    "send?, expect?, path?, argv? }"
#define PORT_RULE "health.port must be an integer in 1..65535"
#define INTERVAL_RULE "health.intervalMs must be an integer in 10..600000"
#define TIMEOUT_RULE "health.timeoutMs must be an integer in 10..600000"
#define FAILURES_RULE "health.failuresToUnhealthy must be an integer in 1..100"
#define HEALTH(fields) START("\"health\":{" fields "}")
#define REASON_RULE "reason must be a string of 1-256 bytes (required when granted is false)"

static void check_each(const char *file, int at, const char *format, const char *const *values,
                       size_t count, long long id, const char *message)
{
    for (size_t i = 0; i < count; i++) {
        char line[512];
        snprintf(line, sizeof(line), format, values[i]);
        check_failure(file, at, line, id, "bad-request", message);
    }
}
#define CHECK_EACH(format, values, id, message) \
    check_each(__FILE__, __LINE__, format, values, sizeof(values) / sizeof(values[0]), id, message)

static void test_app_start_supervision_fields(void)
{
    const char *bad_sizes[] = {"0", "-1", "\"1\"", "1.5", "null", "9007199254740992", "true"};
    CHECK_EACH(START("\"memoryBytes\":%s"), bad_sizes, 1, MEMORY_RULE);
    const char *bad_nodes[] = {"-1", "1024", "\"0\"", "null", "0.0"};
    CHECK_EACH(START("\"node\":%s"), bad_nodes, 1, NODE_RULE);
    const char *bad_health[] = {"null", "7", "[]", "\"9000\""};
    CHECK_EACH(START("\"health\":%s"), bad_health, 1, HEALTH_RULE);
    CHECK_FAILURE_MESSAGE(HEALTH("\"intervalMs\":100,\"timeoutMs\":100"), 1, "bad-request",
                          PORT_RULE);
    const char *bad_ports[] = {"0", "65536", "\"80\"", "null"};
    CHECK_EACH(HEALTH("\"port\":%s,\"intervalMs\":100,\"timeoutMs\":100"), bad_ports, 1,
               PORT_RULE);
    const char *bad_intervals[] = {"9", "600001", "1e3"};
    CHECK_EACH(HEALTH("\"port\":80,\"intervalMs\":%s,\"timeoutMs\":100"), bad_intervals, 1,
               INTERVAL_RULE);
    CHECK_FAILURE_MESSAGE(HEALTH("\"port\":80,\"timeoutMs\":100"), 1, "bad-request",
                          INTERVAL_RULE);
    CHECK_EACH(HEALTH("\"port\":80,\"intervalMs\":100,\"timeoutMs\":%s"), bad_intervals, 1,
               TIMEOUT_RULE);
    CHECK_FAILURE_MESSAGE(HEALTH("\"port\":80,\"intervalMs\":100"), 1, "bad-request",
                          TIMEOUT_RULE);
    const char *bad_failures[] = {"0", "101", "\"3\"", "null"};
    CHECK_EACH(HEALTH("\"port\":80,\"intervalMs\":100,\"timeoutMs\":100,"
                      "\"failuresToUnhealthy\":%s"),
               bad_failures, 1, FAILURES_RULE);
    /* The first bad field in order: name, argv, disk, memoryBytes, node, health. */
    CHECK_FAILURE_MESSAGE(START("\"memoryBytes\":0,\"node\":-1,\"health\":1"), 1, "bad-request",
                          MEMORY_RULE);
    CHECK_FAILURE_MESSAGE(START("\"node\":-1,\"health\":1"), 1, "bad-request", NODE_RULE);
    CHECK_FAILURE_MESSAGE(
        "{\"type\":\"app.start\",\"id\":1,\"name\":\"kv\",\"argv\":[],\"memoryBytes\":0}", 1,
        "bad-request", "argv must be an array of 1-32 strings");
    /* A node the guest does not have. */
    CHECK_FAILURE_MESSAGE(START("\"node\":7"), 1, "bad-request",
                          "node 7 does not exist (no /sys/devices/system/node/node7/meminfo)");
}

static void test_app_start_supervision_values(void)
{
    json_t *request = json_loads(START("\"memoryBytes\":9007199254740991,\"node\":1023,"
                                       "\"health\":{\"port\":65535,\"intervalMs\":10,"
                                       "\"timeoutMs\":600000}"),
                                 0, NULL);
    struct app_spec spec;
    char err[256] = "";
    CHECK(parse_app_start(request, &spec, err, sizeof(err)));
    CHECK(spec.has_memory && spec.has_node && spec.has_health);
    CHECK_INT_EQ(spec.memory_bytes, 9007199254740991LL);
    CHECK_INT_EQ(spec.node, 1023);
    CHECK_INT_EQ(spec.health.port, 65535);
    CHECK_INT_EQ(spec.health.interval_ms, 10);
    CHECK_INT_EQ(spec.health.timeout_ms, 600000);
    CHECK_INT_EQ(spec.health.failures_to_unhealthy, 3); /* the default */
    json_decref(request);
    request = json_loads(START("\"node\":0"), 0, NULL);
    CHECK(parse_app_start(request, &spec, err, sizeof(err)));
    CHECK(!spec.has_memory && spec.has_node && !spec.has_health && spec.node == 0);
    json_decref(request);
}

/* Starts kv on a node short of memoryBytes in-process: the start waits with a mem.request. */
static struct app *start_short(const char *line, long long expected_bytes)
{
    char out[OUT_LINE_BYTES];
    struct protocol_ctx ctx = {.cfg = &answer_config, .apps = &answer_apps};
    CHECK_INT_EQ(protocol_handle_line(&ctx, line, strlen(line), out, sizeof(out)), 0);
    CHECK(ctx.is_reply_deferred);
    struct app *app = &answer_apps.slots[0];
    CHECK(app->state == APP_STARTING && app->phase == START_MEMORY_ASKED);
    CHECK(app->is_mem_request_pending);
    CHECK_INT_EQ(app->mem_request_bytes, expected_bytes);
    return app;
}

static void test_mem_request_rounds_up_to_2_mib(void)
{
    reset_answers();
    /* Fixture node 1 has MemTotal 0. */
    start_short(START("\"memoryBytes\":1,\"node\":1"), 2097152);
    reset_answers();
    start_short(START("\"memoryBytes\":4194305,\"node\":1"), 6291456);
    reset_answers();
    /* Node 2 has 256 MiB: 1 byte more needs a whole block. */
    start_short(START("\"memoryBytes\":268435457,\"node\":2"), 2097152);
}

static void test_mem_answer_fields(void)
{
    const char *bad_apps[] = {"", ",\"app\":\"\"", ",\"app\":\"KV\"", ",\"app\":3"};
    CHECK_EACH("{\"type\":\"mem.answer\",\"id\":2,\"granted\":true%s}", bad_apps, 2,
               "app must be a string of 1-32 characters [a-z0-9-]");
    const char *bad_granted[] = {"", ",\"granted\":1", ",\"granted\":\"true\"",
                                 ",\"granted\":null"};
    CHECK_EACH("{\"type\":\"mem.answer\",\"id\":2,\"app\":\"kv\"%s}", bad_granted, 2,
               "granted must be a boolean");
    const char *bad_reasons[] = {"false", "false,\"reason\":\"\"", "false,\"reason\":7",
                                 "true,\"reason\":null"};
    CHECK_EACH("{\"type\":\"mem.answer\",\"id\":2,\"app\":\"kv\",\"granted\":%s}", bad_reasons, 2,
               REASON_RULE);
    char long_reason[300];
    memset(long_reason, 'r', 257);
    long_reason[257] = '\0'; /* 257 bytes */
    char line[512];
    snprintf(line, sizeof(line), "{\"type\":\"mem.answer\",\"id\":2,\"app\":\"kv\","
             "\"granted\":false,\"reason\":\"%s\"}", long_reason);
    CHECK_FAILURE_MESSAGE(line, 2, "bad-request", REASON_RULE);
    CHECK_FAILURE_MESSAGE("{\"type\":\"mem.answer\",\"id\":3,\"app\":\"kv\",\"granted\":true}", 3,
                          "bad-request", "app kv has no pending mem.request");
    CHECK_FAILURE("{\"type\":\"mem.answer\",\"app\":\"kv\",\"granted\":true}", NO_ID,
                  "bad-request");
}

static void test_mem_answer_moves_the_pending_start(void)
{
    reset_answers();
    struct app *app = start_short(START("\"memoryBytes\":1,\"node\":1"), 2097152);
    CHECK_STR_EQ(answer("{\"type\":\"mem.answer\",\"id\":4,\"app\":\"kv\",\"granted\":true,"
                        "\"reason\":\"plugged\"}"),
                 "{\"type\":\"reply\",\"id\":4,\"ok\":true,\"result\":{}}\n");
    CHECK(app->phase == START_MEMORY_GRANTED && !app->is_mem_request_pending);
    /* Answered: a second answer has nothing to answer. */
    CHECK_FAILURE_MESSAGE("{\"type\":\"mem.answer\",\"id\":5,\"app\":\"kv\",\"granted\":true}", 5,
                          "bad-request", "app kv has no pending mem.request");
    reset_answers();
    app = start_short(START("\"memoryBytes\":1,\"node\":1"), 2097152);
    CHECK_STR_EQ(answer("{\"type\":\"mem.answer\",\"id\":6,\"app\":\"kv\",\"granted\":false,"
                        "\"reason\":\"no \\u00e9 room\"}"),
                 "{\"type\":\"reply\",\"id\":6,\"ok\":true,\"result\":{}}\n");
    CHECK(app->phase == START_MEMORY_REFUSED);
    CHECK_STR_EQ(app->refusal, "no \xc3\xa9 room");
}

void register_supervision_request_tests(void)
{
    add_test("supervision requests: memoryBytes, node and health are validated field by field",
             test_app_start_supervision_fields);
    add_test("supervision requests: the largest values and the failuresToUnhealthy default",
             test_app_start_supervision_values);
    add_test("supervision requests: mem.request asks for the shortfall in whole 2 MiB blocks",
             test_mem_request_rounds_up_to_2_mib);
    add_test("supervision requests: mem.answer app, granted and reason are validated",
             test_mem_answer_fields);
    add_test("supervision requests: mem.answer grants or refuses the pending start",
             test_mem_answer_moves_the_pending_start);
}

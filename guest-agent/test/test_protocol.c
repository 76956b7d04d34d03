/* Tests for request parsing, dispatch and reply building, in-process. */
#include <jansson.h>
#include <stdio.h>

#include "answer.h"
#include "check.h"
#include "fixture_facts.h"
#include "messages.h"
#include "protocol.h"

static void test_sync_echoes_the_nonce(void)
{
    CHECK_STR_EQ(answer("{\"type\":\"sync\",\"id\":7,\"nonce\":\"aZ09_-x\"}"),
                 "{\"type\":\"reply\",\"id\":7,\"ok\":true,\"result\":{\"nonce\":\"aZ09_-x\"}}\n");
    /* The largest id and a 64-character nonce are accepted; unknown fields are ignored. */
    char line[256];
    char nonce[NONCE_MAX_CHARS + 1];
    memset(nonce, 'n', NONCE_MAX_CHARS);
    nonce[NONCE_MAX_CHARS] = '\0';
    snprintf(line, sizeof(line),
             "{\"nonce\":\"%s\",\"id\":9007199254740991,\"type\":\"sync\",\"x\":[1]}", nonce);
    char expected[256];
    snprintf(expected, sizeof(expected),
             "{\"type\":\"reply\",\"id\":9007199254740991,\"ok\":true,"
             "\"result\":{\"nonce\":\"%s\"}}\n",
             nonce);
    CHECK_STR_EQ(answer(line), expected);
}

static void test_sync_rejects_bad_nonces(void)
{
    CHECK_STR_EQ(answer("{\"type\":\"sync\",\"id\":1,\"nonce\":\"a b\"}"),
                 "{\"type\":\"reply\",\"id\":1,\"ok\":false,\"error\":{\"code\":\"bad-request\","
                 "\"message\":\"nonce must be a string of 1-64 characters [A-Za-z0-9_-]\"}}\n");
    CHECK_FAILURE("{\"type\":\"sync\",\"id\":2,\"nonce\":\"\"}", 2, "bad-request");
    CHECK_FAILURE("{\"type\":\"sync\",\"id\":3}", 3, "bad-request");
    CHECK_FAILURE("{\"type\":\"sync\",\"id\":4,\"nonce\":42}", 4, "bad-request");
    CHECK_FAILURE("{\"type\":\"sync\",\"id\":5,\"nonce\":\"caf\\u00e9\"}", 5, "bad-request");
    CHECK_FAILURE("{\"type\":\"sync\",\"id\":6,\"nonce\":\"a.b\"}", 6, "bad-request");
    CHECK_FAILURE("{\"type\":\"sync\",\"id\":7,\"nonce\":"
                  "\"12345678901234567890123456789012345678901234567890123456789012345\"}",
                  7, "bad-request");
}

static void test_bad_json_and_non_objects_get_bad_json_errors(void)
{
    CHECK_FAILURE("{\"type\":\"sync\",", NO_ID, "bad-json");
    CHECK_FAILURE("not json", NO_ID, "bad-json");
    CHECK_FAILURE("{\"type\":\"sync\",\"id\":1,\"id\":2,\"nonce\":\"a\"}", NO_ID, "bad-json");
    CHECK_FAILURE("{\"id\":123456789012345678901234567890}", NO_ID, "bad-json");
    CHECK_FAILURE("{\"type\":\"\xff\xfe\"}", NO_ID, "bad-json");
    CHECK_FAILURE("{\"type\":\"a\\u0000b\",\"id\":1}", NO_ID, "bad-json");
    CHECK_FAILURE("   ", NO_ID, "bad-json");
    CHECK_STR_EQ(answer("[1,2]"),
                 "{\"type\":\"error\",\"code\":\"bad-json\",\"message\":\"message must be a JSON "
                 "object\"}\n");
    CHECK_FAILURE("\"sync\"", NO_ID, "bad-json");
    CHECK_FAILURE("3", NO_ID, "bad-json");
    CHECK_FAILURE("null", NO_ID, "bad-json");
}

static void test_unknown_type_is_a_reply_only_with_a_usable_id(void)
{
    CHECK_STR_EQ(answer("{\"type\":\"reboot\",\"id\":11}"),
                 "{\"type\":\"reply\",\"id\":11,\"ok\":false,\"error\":{\"code\":\"unknown-type\","
                 "\"message\":\"unknown type: reboot\"}}\n");
    CHECK_STR_EQ(answer("{\"type\":\"reboot\"}"),
                 "{\"type\":\"error\",\"code\":\"unknown-type\",\"message\":\"unknown type: "
                 "reboot\"}\n");
    CHECK_FAILURE("{\"type\":\"reboot\",\"id\":-1}", NO_ID, "unknown-type");
    CHECK_FAILURE("{\"type\":\"hello\",\"id\":1}", 1, "unknown-type");
    /* A long, non-ASCII type is quoted safely and the answer stays one valid line. */
    static char line[LINE_MAX_BYTES];
    snprintf(line, sizeof(line), "{\"id\":2,\"type\":\"%s\"}",
             "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
             "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
             "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
             "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
    CHECK_FAILURE(line, 2, "unknown-type");
}

static void test_missing_or_wrong_typed_fields_are_bad_requests(void)
{
    CHECK_FAILURE("{\"id\":1}", 1, "bad-request");
    CHECK_FAILURE("{\"id\":1,\"type\":5}", 1, "bad-request");
    CHECK_FAILURE("{}", NO_ID, "bad-request");
    CHECK_FAILURE("{\"type\":null}", NO_ID, "bad-request");
    CHECK_STR_EQ(answer("{\"type\":\"mem.status\"}"),
                 "{\"type\":\"error\",\"code\":\"bad-request\",\"message\":\"id must be an integer "
                 "in 0..2^53-1\"}\n");
    CHECK_FAILURE("{\"type\":\"sync\",\"id\":\"7\",\"nonce\":\"a\"}", NO_ID, "bad-request");
    CHECK_FAILURE("{\"type\":\"sync\",\"id\":1.5,\"nonce\":\"a\"}", NO_ID, "bad-request");
    CHECK_FAILURE("{\"type\":\"sync\",\"id\":-3,\"nonce\":\"a\"}", NO_ID, "bad-request");
    CHECK_FAILURE("{\"type\":\"sync\",\"id\":9007199254740992,\"nonce\":\"a\"}", NO_ID,
                  "bad-request");
    CHECK_FAILURE("{\"type\":\"sync\",\"id\":true,\"nonce\":\"a\"}", NO_ID, "bad-request");
}

static void test_mem_status_reports_the_fixture(void)
{
    CHECK_STR_EQ(
        answer("{\"type\":\"mem.status\",\"id\":3}"),
        "{\"type\":\"reply\",\"id\":3,\"ok\":true,\"result\":{\"memTotalBytes\":1292369920,"
        "\"memFreeBytes\":1136640000,\"memAvailableBytes\":1177600000,\"memoryBlockSizeBytes\":"
        "134217728,\"blocksOnline\":7,\"blocksOffline\":2,\"numaNodes\":[{\"id\":0,"
        "\"memTotalBytes\":1023934464,\"memFreeBytes\":870400000},{\"id\":1,\"memTotalBytes\":0,"
        "\"memFreeBytes\":0},{\"id\":2,\"memTotalBytes\":268435456,"
        "\"memFreeBytes\":266240000}]}}\n");
}

static void test_mem_status_failure_is_an_internal_reply(void)
{
    reset_answers();
    answer_config.root = "/nonexistent-baton-root";
    CHECK_STR_EQ(answer("{\"type\":\"mem.status\",\"id\":4}"),
                 "{\"type\":\"reply\",\"id\":4,\"ok\":false,\"error\":{\"code\":\"internal\","
                 "\"message\":\"reading /proc/meminfo failed: No such file or directory\"}}\n");
}

static void test_empty_line_gets_no_answer(void)
{
    char out[OUT_LINE_BYTES];
    struct agent_config cfg = {.root = test_env.fixtures_root, .heartbeat_ms = 250};
    struct protocol_ctx ctx = {.cfg = &cfg};
    CHECK_INT_EQ(protocol_handle_line(&ctx, "", 0, out, sizeof(out)), 0);
}

void register_protocol_tests(void)
{
    add_test("protocol: sync echoes the nonce", test_sync_echoes_the_nonce);
    add_test("protocol: sync rejects bad nonces", test_sync_rejects_bad_nonces);
    add_test("protocol: bad JSON and non-objects get bad-json errors",
             test_bad_json_and_non_objects_get_bad_json_errors);
    add_test("protocol: unknown type is a reply only with a usable id",
             test_unknown_type_is_a_reply_only_with_a_usable_id);
    add_test("protocol: missing or wrong-typed fields are bad requests",
             test_missing_or_wrong_typed_fields_are_bad_requests);
    add_test("protocol: mem.status reports the fixture", test_mem_status_reports_the_fixture);
    add_test("protocol: mem.status read failure is an internal reply",
             test_mem_status_failure_is_an_internal_reply);
    add_test("protocol: an empty line gets no answer", test_empty_line_gets_no_answer);
}


/* Tests for the agent's own messages: hello, heartbeat, and the serialization fallbacks. */
#include <jansson.h>

#include "check.h"
#include "fixture_facts.h"
#include "messages.h"
#include "protocol.h"

static char out[OUT_LINE_BYTES];

static void test_hello_and_heartbeat_describe_the_fixture(void)
{
    struct agent_config cfg = {.root = test_env.fixtures_root, .heartbeat_ms = 250};
    serialize_line(build_hello(&cfg), out, sizeof(out));
    CHECK_STR_EQ(out, "{\"type\":\"hello\",\"agentVersion\":\"0.1.0\",\"bootId\":\"" FIX_BOOT_ID
                      "\",\"memTotalBytes\":1292369920,\"memoryBlockSizeBytes\":134217728,"
                      "\"numaNodes\":[{\"id\":0,\"memTotalBytes\":1023934464},{\"id\":1,"
                      "\"memTotalBytes\":0},{\"id\":2,\"memTotalBytes\":268435456}],"
                      "\"heartbeatMs\":250,\"uptimeMs\":1234560,\"kernelRelease\":\""
                      FIX_KERNEL_RELEASE "\",\"virtioMem\":true}\n");
    serialize_line(build_heartbeat(&cfg, 42), out, sizeof(out));
    CHECK_STR_EQ(out, "{\"type\":\"heartbeat\",\"seq\":42,\"uptimeMs\":1234560}\n");
}

static void test_hello_without_virtio_mem_says_so(void)
{
    /* A root with no /sys and no /proc: the hello still goes out, saying what is missing. */
    struct agent_config cfg = {.root = "/nonexistent-baton-root", .heartbeat_ms = 250};
    serialize_line(build_hello(&cfg), out, sizeof(out));
    CHECK(strstr(out, "\"kernelRelease\":\"\",\"virtioMem\":false}") != NULL);
}

static void test_line_too_long_and_oversized_replies_become_errors(void)
{
    protocol_line_too_long(out, sizeof(out));
    CHECK_STR_EQ(out, "{\"type\":\"error\",\"code\":\"line-too-long\",\"message\":\"line longer "
                      "than 4096 bytes discarded\"}\n");
    static char big[LINE_MAX_BYTES];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    serialize_line(json_pack("{s:s, s:I, s:s}", "type", "reply", "id", (json_int_t)5, "pad", big),
                   out, sizeof(out));
    CHECK_STR_EQ(out, "{\"type\":\"reply\",\"id\":5,\"ok\":false,\"error\":{\"code\":\"internal\","
                      "\"message\":\"reply too long\"}}\n");
    serialize_line(NULL, out, sizeof(out));
    CHECK_STR_EQ(out, "{\"type\":\"error\",\"code\":\"internal\",\"message\":\"could not build "
                      "message\"}\n");
}

void register_messages_tests(void)
{
    add_test("messages: hello and heartbeat describe the fixture",
             test_hello_and_heartbeat_describe_the_fixture);
    add_test("messages: hello without virtio-mem says so", test_hello_without_virtio_mem_says_so);
    add_test("messages: line-too-long and oversized replies become errors",
             test_line_too_long_and_oversized_replies_become_errors);
}

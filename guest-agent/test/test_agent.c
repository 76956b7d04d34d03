/* Tests of the real baton-agent binary: hello, requests, malformed and over-long input. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_harness.h"
#include "check.h"
#include "fixture_facts.h"

#define HELLO_FIXTURE_250MS                                                                  \
    "{\"type\":\"hello\",\"agentVersion\":\"0.1.0\",\"bootId\":\"" FIX_BOOT_ID               \
    "\",\"memTotalBytes\":1292369920,\"memoryBlockSizeBytes\":134217728,\"numaNodes\":[{\"id\":" \
    "0,\"memTotalBytes\":1023934464},{\"id\":1,\"memTotalBytes\":0},{\"id\":2,"              \
    "\"memTotalBytes\":268435456}],\"heartbeatMs\":250,\"uptimeMs\":1234560,"                 \
    "\"kernelRelease\":\"" FIX_KERNEL_RELEASE "\",\"virtioMem\":true}"

static void test_agent_sends_hello_first(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    start_agent_on_pty(&agent, NULL);
    char line[LINE_MAX_BYTES + 1];
    CHECK(read_line(&agent, LINE_TIMEOUT_MS, line, sizeof(line)) > 0);
    CHECK_STR_EQ(line, HELLO_FIXTURE_250MS);
    check_clean_exit(&agent);
}

static void test_agent_answers_sync_and_mem_status(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    start_agent_on_pty(&agent, NULL);
    json_decref(expect_message(&agent, "hello", LINE_TIMEOUT_MS));
    CHECK_STR_EQ(request(&agent, "{\"type\":\"sync\",\"id\":1,\"nonce\":\"n-1\"}"),
                 "{\"type\":\"reply\",\"id\":1,\"ok\":true,\"result\":{\"nonce\":\"n-1\"}}");
    CHECK_STR_EQ(
        request(&agent, "{\"type\":\"mem.status\",\"id\":2}"),
        "{\"type\":\"reply\",\"id\":2,\"ok\":true,\"result\":{\"memTotalBytes\":1292369920,"
        "\"memFreeBytes\":1136640000,\"memAvailableBytes\":1177600000,\"memoryBlockSizeBytes\":"
        "134217728,\"blocksOnline\":7,\"blocksOffline\":2,\"numaNodes\":[{\"id\":0,"
        "\"memTotalBytes\":1023934464,\"memFreeBytes\":870400000},{\"id\":1,\"memTotalBytes\":0,"
        "\"memFreeBytes\":0},{\"id\":2,\"memTotalBytes\":268435456,\"memFreeBytes\":266240000}]}}");
    check_clean_exit(&agent);
}

static void test_agent_survives_malformed_input(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    start_agent_on_pty(&agent, NULL);
    json_decref(expect_message(&agent, "hello", LINE_TIMEOUT_MS));
    CHECK(strstr(request(&agent, "{\"type\":"), "\"code\":\"bad-json\"") != NULL);
    CHECK(strstr(request(&agent, "[]"), "\"code\":\"bad-json\"") != NULL);
    CHECK(strstr(request(&agent, "\x01\x02\xff"), "\"code\":\"bad-json\"") != NULL);
    CHECK_STR_EQ(request(&agent, "{\"type\":\"nope\",\"id\":3}"),
                 "{\"type\":\"reply\",\"id\":3,\"ok\":false,\"error\":{\"code\":\"unknown-type\","
                 "\"message\":\"unknown type: nope\"}}");
    CHECK_STR_EQ(request(&agent, "{\"type\":\"nope\"}"),
                 "{\"type\":\"error\",\"code\":\"unknown-type\","
                 "\"message\":\"unknown type: nope\"}");
    CHECK_STR_EQ(request(&agent, "{\"type\":\"sync\",\"id\":4,\"nonce\":\"bad nonce\"}"),
                 "{\"type\":\"reply\",\"id\":4,\"ok\":false,\"error\":{\"code\":\"bad-request\","
                 "\"message\":\"nonce must be a string of 1-64 characters [A-Za-z0-9_-]\"}}");
    CHECK(strstr(request(&agent, "{\"type\":\"sync\",\"nonce\":\"a\"}"),
                 "{\"type\":\"error\",\"code\":\"bad-request\"") != NULL);
    /* Deeply nested input must not exhaust anything. */
    static char deep[LINE_MAX_BYTES];
    memset(deep, '[', 4000);
    deep[4000] = '\0';
    CHECK(strstr(request(&agent, deep), "\"code\":\"bad-json\"") != NULL);
    CHECK_STR_EQ(request(&agent, "{\"type\":\"sync\",\"id\":5,\"nonce\":\"still-here\"}"),
                 "{\"type\":\"reply\",\"id\":5,\"ok\":true,\"result\":{\"nonce\":\"still-here\"}}");
    check_clean_exit(&agent);
}

static void test_agent_discards_over_long_lines(void)
{
    struct agent_proc agent = AGENT_PROC_INIT;
    start_agent_on_pty(&agent, NULL);
    json_decref(expect_message(&agent, "hello", LINE_TIMEOUT_MS));
    static char line[3 * LINE_MAX_BYTES];
    memset(line, 'z', 2 * LINE_MAX_BYTES);
    line[2 * LINE_MAX_BYTES] = '\0';
    CHECK_STR_EQ(request(&agent, line),
                 "{\"type\":\"error\",\"code\":\"line-too-long\",\"message\":\"line longer than "
                 "4096 bytes discarded\"}");
    /* A request padded to exactly 4096 bytes with its newline is still accepted. */
    const char *sync = "{\"type\":\"sync\",\"id\":6,\"nonce\":\"edge\"}";
    memset(line, ' ', LINE_MAX_BYTES - 1);
    memcpy(line, sync, strlen(sync));
    line[LINE_MAX_BYTES - 1] = '\0';
    CHECK_STR_EQ(request(&agent, line),
                 "{\"type\":\"reply\",\"id\":6,\"ok\":true,\"result\":{\"nonce\":\"edge\"}}");
    check_clean_exit(&agent);
}

void register_agent_tests(void)
{
    add_test("agent: sends hello with the guest's facts first", test_agent_sends_hello_first);
    add_test("agent: answers sync and mem.status", test_agent_answers_sync_and_mem_status);
    add_test("agent: answers malformed input and keeps running",
             test_agent_survives_malformed_input);
    add_test("agent: discards over-long lines and accepts a 4096-byte one",
             test_agent_discards_over_long_lines);
}

/* In-process tests of the v2 fault requests: the flag, the name, a running app. */
#include <stdio.h>

#include "answer.h"
#include "check.h"
#include "messages.h"

static void test_v2_faults_need_the_flag_and_a_running_app(void)
{
    const char *types[] = {"fault.hang", "fault.app-crash", "fault.app-hang", "fault.app-fail"};
    for (size_t i = 0; i < 4; i++) {
        char line[128];
        snprintf(line, sizeof(line), "{\"type\":\"%s\",\"id\":1,\"name\":\"kv\"}", types[i]);
        CHECK_FAILURE(line, 1, "faults-disabled");
        snprintf(line, sizeof(line), "{\"type\":\"%s\",\"name\":\"kv\"}", types[i]);
        CHECK_FAILURE(line, NO_ID, "bad-request");
    }
    reset_answers();
    answer_config.is_faults_enabled = true;
    for (size_t i = 1; i < 4; i++) {
        char line[128];
        snprintf(line, sizeof(line), "{\"type\":\"%s\",\"id\":2}", types[i]);
        CHECK_FAILURE_MESSAGE(line, 2, "bad-request", "name must be a string of 1-32 characters "
                                                      "[a-z0-9-]");
        snprintf(line, sizeof(line), "{\"type\":\"%s\",\"id\":3,\"name\":\"kv\"}", types[i]);
        CHECK_FAILURE_MESSAGE(line, 3, "not-running", "app kv is not running");
    }
    answer_apps.slots[0] = (struct app){.state = APP_STOPPING, .spec = {.name = "kv"}};
    CHECK_FAILURE_MESSAGE("{\"type\":\"fault.app-crash\",\"id\":4,\"name\":\"kv\"}", 4,
                          "not-running", "app kv is already stopping");
    char out[OUT_LINE_BYTES];
    struct protocol_ctx ctx = {.cfg = &answer_config, .apps = &answer_apps};
    const char *line = "{\"type\":\"fault.hang\",\"id\":5}";
    protocol_handle_line(&ctx, line, strlen(line), out, sizeof(out));
    CHECK_STR_EQ(out, "{\"type\":\"reply\",\"id\":5,\"ok\":true,\"result\":{}}\n");
    CHECK(ctx.should_hang && !ctx.should_panic);
}

void register_fault_request_tests(void)
{
    add_test("faults: v2 faults need baton.faults=1, a name and a running app",
             test_v2_faults_need_the_flag_and_a_running_app);
}

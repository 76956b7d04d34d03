/* In-process requests: one line through protocol_handle_line with the fixture root. */
#include "answer.h"

#include <jansson.h>
#include <string.h>

#include "check.h"
#include "messages.h"

struct agent_config answer_config;
struct apps answer_apps;
static char out[OUT_LINE_BYTES];

void reset_answers(void)
{
    answer_config = (struct agent_config){.root = test_env.fixtures_root, .heartbeat_ms = 250};
    apps_init(&answer_apps, answer_config.root, 0);
}

const char *answer(const char *line)
{
    if (!answer_config.root) {
        reset_answers();
    }
    struct protocol_ctx ctx = {.cfg = &answer_config, .apps = &answer_apps};
    size_t len = protocol_handle_line(&ctx, line, strlen(line), out, sizeof(out));
    CHECK(len > 0 && len <= LINE_MAX_BYTES && out[len - 1] == '\n' && strlen(out) == len);
    return out;
}

void check_failure(const char *file, int at, const char *line, long long id, const char *code,
                   const char *message)
{
    const char *text = answer(line);
    json_t *msg = json_loads(text, 0, NULL);
    const char *type = json_string_value(json_object_get(msg, "type"));
    json_t *got_id = json_object_get(msg, "id");
    json_t *error = id == NO_ID ? msg : json_object_get(msg, "error");
    const char *got_code = json_string_value(json_object_get(error, "code"));
    const char *got_message = json_string_value(json_object_get(error, "message"));
    bool is_ok = msg && type && got_code && strcmp(got_code, code) == 0 && got_message &&
                 (!message || strcmp(got_message, message) == 0) &&
                 (id == NO_ID ? strcmp(type, "error") == 0 && !got_id
                              : strcmp(type, "reply") == 0 &&
                                    json_integer_value(got_id) == id &&
                                    json_is_false(json_object_get(msg, "ok")));
    if (!is_ok) {
        check_fail(file, at, "input %s\n      answer %s      wanted %s, id %lld%s%s", line, text,
                   code, id, message ? ", message " : "", message ? message : "");
    }
    json_decref(msg);
}

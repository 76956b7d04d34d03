/* Validating app.start's supervision fields (memoryBytes, node, health), as
 * docs/agent-protocol.md "Supervision (v2)" says. */
#include <stdio.h>
#include <string.h>

#include "apps.h"
#include "health.h"
#include "request_fields.h"

#define HEALTH_RULE                                                                             \
    "health must be an object { kind?, port, intervalMs, timeoutMs, failuresToUnhealthy, "     \
    "send?, expect?, path?, argv? }"
#define HEALTH_KINDS "line, tcp, http, exec"

/* An optional integer field in min..max: true when absent (*is_present false) or valid;
 * false with "<label> must be an integer in min..max" otherwise (null is not absent). */
static bool read_integer(const json_t *object, const char *field, const char *label,
                         json_int_t min, json_int_t max, const char *max_text, bool *is_present,
                         json_int_t *out, char *err, size_t cap)
{
    const json_t *value = json_object_get(object, field);
    *is_present = value != NULL;
    if (!value) {
        return true;
    }
    json_int_t number = json_integer_value(value);
    if (!json_is_integer(value) || number < min || number > max) {
        if (max_text) {
            snprintf(err, cap, "%s must be an integer in %lld..%s", label, (long long)min,
                     max_text);
        } else {
            snprintf(err, cap, "%s must be an integer in %lld..%lld", label, (long long)min,
                     (long long)max);
        }
        return false;
    }
    *out = number;
    return true;
}

/* A required integer field of health. */
static bool read_health_field(const json_t *health, const char *field, json_int_t min,
                              json_int_t max, int *out, char *err, size_t cap)
{
    char label[64];
    snprintf(label, sizeof(label), "health.%s", field);
    bool is_present;
    json_int_t value = 0;
    if (!read_integer(health, field, label, min, max, NULL, &is_present, &value, err, cap)) {
        return false;
    }
    if (!is_present) {
        snprintf(err, cap, "%s must be an integer in %lld..%lld", label, (long long)min,
                 (long long)max);
        return false;
    }
    *out = (int)value;
    return true;
}

/* An optional text field of health into out (default when absent). */
static bool read_health_text(const json_t *health, const char *field, const char *fallback,
                             size_t max_bytes, char *out, char *err, size_t cap)
{
    const json_t *value = json_object_get(health, field);
    const char *text = value ? read_text(value, max_bytes) : fallback;
    bool is_printable = text != NULL;
    for (const char *c = text; c && *c != '\0'; c++) {
        is_printable = is_printable && (unsigned char)*c >= 0x20 && *c != 0x7f;
    }
    if (!is_printable) {
        snprintf(err, cap, "health.%s must be printable text of 1-%zu bytes", field, max_bytes);
        return false;
    }
    memcpy(out, text, strlen(text) + 1);
    return true;
}

/* kind and the fields that belong to it: send/expect (line), path (http), argv (exec). */
static bool read_health_kind(const json_t *health, struct health_spec *out, char *err,
                             size_t cap)
{
    static const char *const names[] = {
        [HEALTH_KIND_LINE] = "line", [HEALTH_KIND_TCP] = "tcp", [HEALTH_KIND_HTTP] = "http",
        [HEALTH_KIND_EXEC] = "exec"};
    const json_t *kind = json_object_get(health, "kind");
    const char *text = kind ? json_string_value(kind) : names[HEALTH_KIND_LINE];
    size_t i = 0;
    while (i < sizeof(names) / sizeof(names[0]) && !(text && strcmp(text, names[i]) == 0)) {
        i++;
    }
    if (i == sizeof(names) / sizeof(names[0])) {
        snprintf(err, cap, "health.kind must be one of " HEALTH_KINDS);
        return false;
    }
    out->kind = (enum health_kind)i;
    out->path[0] = out->expect[0] = out->send[0] = '\0';
    out->argv.count = 0;
    if (out->kind == HEALTH_KIND_LINE) {
        if (!read_health_text(health, "send", HEALTH_DEFAULT_SEND, HEALTH_TEXT_MAX_BYTES,
                              out->send, err, cap) ||
            !read_health_text(health, "expect", HEALTH_DEFAULT_EXPECT, HEALTH_TEXT_MAX_BYTES,
                              out->expect, err, cap)) {
            return false;
        }
        strcat(out->send, "\n");
    } else if (out->kind == HEALTH_KIND_HTTP) {
        if (!read_health_text(health, "path", HEALTH_DEFAULT_PATH, APP_PATH_MAX_BYTES,
                              out->path, err, cap)) {
            return false;
        }
        if (out->path[0] != '/' || strpbrk(out->path, " ")) {
            snprintf(err, cap, "health.path must start with / and have no spaces");
            return false;
        }
    } else if (out->kind == HEALTH_KIND_EXEC) {
        if (!read_string_list(json_object_get(health, "argv"), "health.argv", 1, APP_ARGV_MAX,
                              APP_ARG_MAX_BYTES, &out->argv, err, cap)) {
            return false;
        }
        if (!is_absolute_path(out->argv.text, APP_ARG_MAX_BYTES)) {
            snprintf(err, cap, "health.argv[0] must be an absolute path without ..");
            return false;
        }
    }
    return true;
}

static bool read_health(const json_t *request, struct app_spec *spec, char *err, size_t cap)
{
    const json_t *health = json_object_get(request, "health");
    spec->has_health = health != NULL;
    if (!health) {
        return true;
    }
    if (!json_is_object(health)) {
        snprintf(err, cap, "%s", HEALTH_RULE);
        return false;
    }
    struct health_spec *out = &spec->health;
    if (!read_health_kind(health, out, err, cap)) {
        return false;
    }
    bool is_port_needed = out->kind != HEALTH_KIND_EXEC || json_object_get(health, "port");
    out->port = 0;
    if ((is_port_needed &&
         !read_health_field(health, "port", 1, HEALTH_PORT_MAX, &out->port, err, cap)) ||
        !read_health_field(health, "intervalMs", HEALTH_INTERVAL_MIN_MS, HEALTH_INTERVAL_MAX_MS,
                           &out->interval_ms, err, cap) ||
        !read_health_field(health, "timeoutMs", HEALTH_TIMEOUT_MIN_MS, HEALTH_TIMEOUT_MAX_MS,
                           &out->timeout_ms, err, cap)) {
        return false;
    }
    bool is_present;
    json_int_t failures = HEALTH_FAILURES_DEFAULT;
    if (!read_integer(health, "failuresToUnhealthy", "health.failuresToUnhealthy", 1,
                      HEALTH_FAILURES_MAX, NULL, &is_present, &failures, err, cap)) {
        return false;
    }
    out->failures_to_unhealthy = (int)failures;
    return true;
}

bool parse_supervision(const json_t *request, struct app_spec *spec, char *err, size_t cap)
{
    json_int_t value = 0;
    if (!read_integer(request, "memoryBytes", "memoryBytes", 1, APP_MEMORY_BYTES_MAX, "2^53-1",
                      &spec->has_memory, &value, err, cap)) {
        return false;
    }
    spec->memory_bytes = spec->has_memory ? (uint64_t)value : 0;
    if (!read_integer(request, "node", "node", 0, NUMA_NODE_ID_MAX, NULL, &spec->has_node,
                      &value, err, cap)) {
        return false;
    }
    spec->node = spec->has_node ? (unsigned)value : 0;
    return read_health(request, spec, err, cap);
}

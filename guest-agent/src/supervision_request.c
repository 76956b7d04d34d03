/* Validating app.start's supervision fields (memoryBytes, node, health), as
 * docs/agent-protocol.md "Supervision (v2)" says. */
#include <stdio.h>

#include "apps.h"

#define HEALTH_RULE "health must be an object { port, intervalMs, timeoutMs, failuresToUnhealthy }"

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
    if (!read_health_field(health, "port", 1, HEALTH_PORT_MAX, &out->port, err, cap) ||
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

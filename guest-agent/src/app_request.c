/* Validating app.start and app.stop requests field by field, as docs/agent-protocol.md says. */
#include <stdio.h>
#include <string.h>

#include "apps.h"

#define NAME_CHARS "abcdefghijklmnopqrstuvwxyz0123456789-"
#define SERIAL_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

static bool fail(char *err, size_t cap, const char *message)
{
    snprintf(err, cap, "%s", message);
    return false;
}

/* A JSON string of 1..max_chars characters from charset; strspn stops at an embedded NUL, so
 * "\u0000" fails the length comparison too. */
static const char *read_word(const json_t *value, size_t max_chars, const char *charset)
{
    const char *text = json_string_value(value);
    size_t len = text ? json_string_length(value) : 0;
    return len > 0 && len <= max_chars && strspn(text, charset) == len ? text : NULL;
}

/* A path that starts with prefix, names something below it, has no ".." anywhere and no NUL. */
static bool is_path_under(const json_t *value, const char *prefix)
{
    const char *text = json_string_value(value);
    size_t len = text ? json_string_length(value) : 0;
    size_t prefix_len = strlen(prefix);
    return text && strlen(text) == len && len > prefix_len &&
           strncmp(text, prefix, prefix_len) == 0 && !strstr(text, "..");
}

bool parse_app_name(const json_t *request, const char *field, char *name, char *err,
                    size_t cap)
{
    const char *text = read_word(json_object_get(request, field), APP_NAME_MAX_CHARS, NAME_CHARS);
    if (!text) {
        snprintf(err, cap, "%s must be a string of 1-32 characters [a-z0-9-]", field);
        return false;
    }
    memcpy(name, text, strlen(text) + 1);
    return true;
}

static bool read_argv(const json_t *request, struct app_spec *spec, char *err, size_t cap)
{
    const json_t *argv = json_object_get(request, "argv");
    size_t argc = json_array_size(argv);
    if (!json_is_array(argv) || argc == 0 || argc > APP_ARGV_MAX) {
        return fail(err, cap, "argv must be an array of 1-32 strings");
    }
    size_t used = 0;
    for (size_t i = 0; i < argc; i++) {
        const json_t *arg = json_array_get(argv, i);
        const char *text = json_string_value(arg);
        size_t len = text ? json_string_length(arg) : 0;
        if (!text || len > APP_ARG_MAX_BYTES || strlen(text) != len) {
            snprintf(err, cap, "argv[%zu] must be a string of at most 256 bytes without NUL", i);
            return false;
        }
        /* The request line is under LINE_MAX_BYTES, so its strings always fit; checked
         * anyway so the copy can never overrun. */
        if (used + len + 1 > sizeof(spec->args)) {
            return fail(err, cap, "argv is too long");
        }
        memcpy(spec->args + used, text, len + 1);
        used += len + 1;
    }
    if (!is_path_under(json_array_get(argv, 0), APP_DIR_PREFIX)) {
        return fail(err, cap, "argv[0] must be an absolute path under /apps/ without ..");
    }
    spec->argc = argc;
    return true;
}

static bool read_disk(const json_t *request, struct app_spec *spec, char *err, size_t cap)
{
    const json_t *disk = json_object_get(request, "disk");
    spec->has_disk = disk != NULL;
    if (!disk) {
        return true;
    }
    if (!json_is_object(disk)) {
        return fail(err, cap, "disk must be an object { serial, mountPoint }");
    }
    const char *serial =
        read_word(json_object_get(disk, "serial"), DISK_SERIAL_MAX_CHARS, SERIAL_CHARS);
    if (!serial) {
        return fail(err, cap, "disk.serial must be a string of 1-20 characters [A-Za-z0-9_-]");
    }
    const json_t *mount_point = json_object_get(disk, "mountPoint");
    if (!is_path_under(mount_point, DATA_DIR_PREFIX) ||
        json_string_length(mount_point) >= sizeof(spec->mount_point)) {
        return fail(err, cap, "disk.mountPoint must be a path under /data/ without ..");
    }
    memcpy(spec->serial, serial, strlen(serial) + 1);
    memcpy(spec->mount_point, json_string_value(mount_point),
           json_string_length(mount_point) + 1);
    return true;
}

bool parse_app_start(const json_t *request, struct app_spec *spec, char *err, size_t cap)
{
    return parse_app_name(request, "name", spec->name, err, cap) &&
           read_argv(request, spec, err, cap) && read_disk(request, spec, err, cap) &&
           parse_supervision(request, spec, err, cap);
}

bool parse_app_stop(const json_t *request, char *name, int64_t *timeout_ms, char *err,
                    size_t cap)
{
    if (!parse_app_name(request, "name", name, err, cap)) {
        return false;
    }
    const json_t *timeout = json_object_get(request, "timeoutMs");
    *timeout_ms = APP_STOP_DEFAULT_TIMEOUT_MS;
    if (!timeout) {
        return true;
    }
    json_int_t value = json_integer_value(timeout);
    if (!json_is_integer(timeout) || value < 0 || value > REQUEST_ID_MAX) {
        return fail(err, cap, "timeoutMs must be an integer in 0..2^53-1");
    }
    *timeout_ms = (int64_t)value;
    return true;
}

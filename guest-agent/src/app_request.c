/* Validating app.start and app.stop requests field by field, as docs/agent-protocol.md says. */
#include <stdio.h>
#include <string.h>

#include "apps.h"
#include "request_fields.h"

#define NAME_CHARS "abcdefghijklmnopqrstuvwxyz0123456789-"
#define SERIAL_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
#define ENV_KEY_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"

static bool fail(char *err, size_t cap, const char *message)
{
    snprintf(err, cap, "%s", message);
    return false;
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

/* Copies an optional string field checked by check into out; false when present but bad. */
static bool read_optional(const json_t *object, const char *field, const char *rule,
                          const char *(*check)(const json_t *), char *out, char *err, size_t cap)
{
    const json_t *value = json_object_get(object, field);
    out[0] = '\0';
    if (!value) {
        return true;
    }
    const char *text = check(value);
    if (!text) {
        snprintf(err, cap, "%s %s", field, rule);
        return false;
    }
    memcpy(out, text, strlen(text) + 1);
    return true;
}

static const char *read_app_path(const json_t *value)
{
    const char *text = read_text(value, APP_PATH_MAX_BYTES);
    return is_absolute_path(text, APP_PATH_MAX_BYTES) ? text : NULL;
}

#define ACCOUNT_RULE "must be a name of 1-32 characters [A-Za-z0-9_.-]"
#define PATH_RULE "must be an absolute path of at most 256 bytes without .."

/* KEY=VALUE with KEY of [A-Za-z0-9_] not starting with a digit. */
static bool is_env_entry(const char *text)
{
    size_t key_len = strspn(text, ENV_KEY_CHARS);
    return key_len > 0 && text[key_len] == '=' && !(text[0] >= '0' && text[0] <= '9');
}

/* user, group, env, workdir: only for argv apps. */
static bool read_identity(const json_t *request, struct app_spec *spec, char *err, size_t cap)
{
    if (!read_optional(request, "user", ACCOUNT_RULE, read_account_name, spec->user, err, cap) ||
        !read_optional(request, "group", ACCOUNT_RULE, read_account_name, spec->group, err,
                       cap) ||
        !read_optional(request, "workdir", PATH_RULE, read_app_path, spec->workdir, err, cap)) {
        return false;
    }
    const json_t *env = json_object_get(request, "env");
    spec->env.count = 0;
    if (env && !read_string_list(env, "env", 0, APP_ENV_MAX, APP_ENV_ENTRY_MAX_BYTES, &spec->env,
                                 err, cap)) {
        return false;
    }
    for (size_t i = 0; i < spec->env.count; i++) {
        if (!is_env_entry(string_at(&spec->env, i))) {
            snprintf(err, cap, "env[%zu] must be KEY=VALUE with KEY of [A-Za-z0-9_]", i);
            return false;
        }
    }
    return true;
}

static bool read_unit(const json_t *request, struct app_spec *spec, char *err, size_t cap)
{
    static const char *const argv_only[] = {"user", "group", "env", "workdir"};
    for (size_t i = 0; i < sizeof(argv_only) / sizeof(argv_only[0]); i++) {
        if (json_object_get(request, argv_only[i])) {
            snprintf(err, cap, "%s is for argv apps; a unit sets it in its own file",
                     argv_only[i]);
            return false;
        }
    }
    const char *unit = read_unit_name(json_object_get(request, "unit"));
    if (!unit) {
        return fail(err, cap,
                    "unit must be a systemd service name of 1-255 characters "
                    "[A-Za-z0-9:_.\\@-] ending in .service");
    }
    memcpy(spec->unit, unit, strlen(unit) + 1);
    spec->argc = 0;
    return true;
}

static bool read_argv(const json_t *request, struct app_spec *spec, char *err, size_t cap)
{
    const json_t *argv = json_object_get(request, "argv");
    bool has_unit = json_object_get(request, "unit") != NULL;
    if (has_unit == (argv != NULL)) {
        return fail(err, cap, "exactly one of argv and unit must be given");
    }
    spec->unit[0] = '\0';
    if (has_unit) {
        spec->user[0] = spec->group[0] = spec->workdir[0] = '\0';
        spec->env.count = 0;
        return read_unit(request, spec, err, cap);
    }
    struct string_list parsed;
    _Static_assert(sizeof(spec->args) == sizeof(parsed.text), "args holds a list's text");
    if (!read_string_list(argv, "argv", 1, APP_ARGV_MAX, APP_ARG_MAX_BYTES, &parsed, err, cap)) {
        return false;
    }
    if (!is_absolute_path(parsed.text, APP_ARG_MAX_BYTES)) {
        return fail(err, cap, "argv[0] must be an absolute path without ..");
    }
    memcpy(spec->args, parsed.text, sizeof(spec->args));
    spec->argc = parsed.count;
    return read_identity(request, spec, err, cap);
}

/* owner: "user" or "user:group". */
static bool read_owner(const json_t *disk, struct app_spec *spec, char *err, size_t cap)
{
    spec->owner_user[0] = spec->owner_group[0] = '\0';
    const json_t *owner = json_object_get(disk, "owner");
    if (!owner) {
        return true;
    }
    const char *text = read_text(owner, 2 * ACCOUNT_NAME_MAX_CHARS + 1);
    const char *colon = text ? strchr(text, ':') : NULL;
    size_t user_len = colon ? (size_t)(colon - text) : text ? strlen(text) : 0;
    json_t *user = text ? json_stringn(text, user_len) : NULL;
    json_t *group = colon ? json_string(colon + 1) : NULL;
    const char *user_name = user ? read_account_name(user) : NULL;
    const char *group_name = group ? read_account_name(group) : NULL;
    bool is_ok = user_name && (!colon || group_name);
    if (is_ok) {
        memcpy(spec->owner_user, user_name, strlen(user_name) + 1);
        if (group_name) {
            memcpy(spec->owner_group, group_name, strlen(group_name) + 1);
        }
    }
    json_decref(user);
    json_decref(group);
    return is_ok || fail(err, cap, "disk.owner must be user or user:group (names of 1-32 "
                                   "characters [A-Za-z0-9_.-])");
}

static bool read_disk(const json_t *request, struct app_spec *spec, char *err, size_t cap)
{
    const json_t *disk = json_object_get(request, "disk");
    spec->has_disk = disk != NULL;
    spec->prepare.count = 0;
    spec->owner_user[0] = spec->owner_group[0] = '\0';
    if (!disk) {
        return true;
    }
    if (!json_is_object(disk)) {
        return fail(err, cap, "disk must be an object { serial, mountPoint, owner?, prepare? }");
    }
    const char *serial =
        read_word(json_object_get(disk, "serial"), DISK_SERIAL_MAX_CHARS, SERIAL_CHARS);
    if (!serial) {
        return fail(err, cap, "disk.serial must be a string of 1-20 characters [A-Za-z0-9_-]");
    }
    const char *mount_point = read_app_path(json_object_get(disk, "mountPoint"));
    if (!mount_point) {
        return fail(err, cap, "disk.mountPoint " PATH_RULE ", not /");
    }
    memcpy(spec->serial, serial, strlen(serial) + 1);
    memcpy(spec->mount_point, mount_point, strlen(mount_point) + 1);
    const json_t *prepare = json_object_get(disk, "prepare");
    if (prepare &&
        (!read_string_list(prepare, "disk.prepare", 1, APP_ARGV_MAX, APP_ARG_MAX_BYTES,
                           &spec->prepare, err, cap) ||
         (!is_absolute_path(spec->prepare.text, APP_ARG_MAX_BYTES) &&
          !fail(err, cap, "disk.prepare[0] must be an absolute path without ..")))) {
        return false;
    }
    return read_owner(disk, spec, err, cap);
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

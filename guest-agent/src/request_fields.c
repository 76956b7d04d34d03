/* Validators shared by the request parsers: words from a charset, paths, lists of strings. */
#include "request_fields.h"

#include <stdio.h>
#include <string.h>

#define ACCOUNT_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"
#define UNIT_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789:_.\\@-"
#define UNIT_SUFFIX ".service"

const char *read_word(const json_t *value, size_t max_chars, const char *charset)
{
    const char *text = json_string_value(value);
    size_t len = text ? json_string_length(value) : 0;
    /* strspn stops at an embedded NUL, so "\u0000" fails the length comparison too. */
    return len > 0 && len <= max_chars && strspn(text, charset) == len ? text : NULL;
}

const char *read_text(const json_t *value, size_t max_bytes)
{
    const char *text = json_string_value(value);
    size_t len = text ? json_string_length(value) : 0;
    return len > 0 && len <= max_bytes && strlen(text) == len ? text : NULL;
}

bool is_absolute_path(const char *text, size_t max_bytes)
{
    size_t len = text ? strlen(text) : 0;
    if (len < 2 || len > max_bytes || text[0] != '/') {
        return false;
    }
    for (const char *c = text; *c != '\0'; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f) {
            return false;
        }
    }
    /* ".." as a whole component: "/a/..", "/../b", "/a/../b". */
    for (const char *dots = strstr(text, ".."); dots; dots = strstr(dots + 1, "..")) {
        if (dots[-1] == '/' && (dots[2] == '/' || dots[2] == '\0')) {
            return false;
        }
    }
    return true;
}

bool read_string_list(const json_t *value, const char *label, size_t min_count,
                      size_t max_count, size_t max_bytes, struct string_list *out, char *err,
                      size_t cap)
{
    size_t count = json_array_size(value);
    if (!json_is_array(value) || count < min_count || count > max_count) {
        snprintf(err, cap, "%s must be an array of %zu-%zu strings", label, min_count, max_count);
        return false;
    }
    size_t used = 0;
    for (size_t i = 0; i < count; i++) {
        const json_t *item = json_array_get(value, i);
        const char *text = json_string_value(item);
        size_t len = text ? json_string_length(item) : 0;
        if (!text || len > max_bytes || strlen(text) != len) {
            snprintf(err, cap, "%s[%zu] must be a string of at most %zu bytes without NUL", label,
                     i, max_bytes);
            return false;
        }
        /* The request line is under LINE_MAX_BYTES, so its strings always fit; checked
         * anyway so the copy can never overrun. */
        if (used + len + 1 > sizeof(out->text)) {
            snprintf(err, cap, "%s is too long", label);
            return false;
        }
        memcpy(out->text + used, text, len + 1);
        used += len + 1;
    }
    out->count = count;
    return true;
}

const char *string_at(const struct string_list *list, size_t i)
{
    const char *text = list->text;
    while (i-- > 0) {
        text += strlen(text) + 1;
    }
    return text;
}

void list_to_argv(const struct string_list *list, char **argv)
{
    char *text = (char *)list->text;
    for (size_t i = 0; i < list->count; i++) {
        argv[i] = text;
        text += strlen(text) + 1;
    }
    argv[list->count] = NULL;
}

const char *read_account_name(const json_t *value)
{
    const char *text = read_word(value, ACCOUNT_NAME_MAX_CHARS, ACCOUNT_CHARS);
    return text && text[0] != '-' ? text : NULL;
}

const char *read_unit_name(const json_t *value)
{
    const char *text = read_word(value, UNIT_NAME_MAX_CHARS, UNIT_CHARS);
    size_t len = text ? strlen(text) : 0;
    size_t suffix_len = strlen(UNIT_SUFFIX);
    if (!text || text[0] == '-' || text[0] == '.' || len <= suffix_len ||
        strcmp(text + len - suffix_len, UNIT_SUFFIX) != 0) {
        return NULL;
    }
    return text;
}

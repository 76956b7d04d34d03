/* Validators shared by the request parsers: words from a charset, paths, lists of strings. */
#ifndef BATON_REQUEST_FIELDS_H
#define BATON_REQUEST_FIELDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "apps.h"

/* A JSON string of 1..max_chars characters from charset, or NULL. */
const char *read_word(const json_t *value, size_t max_chars, const char *charset);

/* A JSON string of 1..max_bytes bytes without NUL, or NULL. */
const char *read_text(const json_t *value, size_t max_bytes);

/* An absolute path of at most max_bytes: starts with '/', is not "/" alone, has no ".."
 * component, no NUL and no control characters. */
bool is_absolute_path(const char *text, size_t max_bytes);

/* A JSON array of min_count..max_count strings of 1..max_bytes each (no NUL) copied back to
 * back into out. On failure writes "<label> must be ..." into err. */
bool read_string_list(const json_t *value, const char *label, size_t min_count,
                      size_t max_count, size_t max_bytes, struct string_list *out, char *err,
                      size_t cap);

/* The i-th string of a list (i < list->count). */
const char *string_at(const struct string_list *list, size_t i);

/* Fills argv (list->count + 1 entries) with the list's strings and a NULL. */
void list_to_argv(const struct string_list *list, char **argv);

/* A user or group name: 1..32 of [A-Za-z0-9_.-], not starting with '-'. */
const char *read_account_name(const json_t *value);

/* A systemd unit name: 1..255 of [A-Za-z0-9:_.\@-], not starting with '-' or '.', ending in
 * one of the unit types the agent runs (.service). */
const char *read_unit_name(const json_t *value);

#endif

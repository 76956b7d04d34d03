/* kvd line protocol. Requests (commands are upper case, words separated by spaces):
 *   SET <key> <value>  -> OK          (after the record is in kv.log and fsynced)
 *   GET <key>          -> VALUE <value> | NOTFOUND
 *   COUNT              -> <number of keys>
 *   PING               -> PONG
 * Anything else gets "ERR <reason>". */
#include "proto.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct word {
    const char *s;
    size_t len;
};

/* Splits on runs of spaces; fills at most max words and returns how many there are, capped at
 * max + 1 (so "too many" is visible without counting them all). */
static int split_words(const char *line, size_t len, struct word *words, int max)
{
    int count = 0;
    size_t i = 0;
    while (i < len) {
        while (i < len && line[i] == ' ')
            i++;
        if (i == len)
            break;
        size_t start = i;
        while (i < len && line[i] != ' ')
            i++;
        if (count == max)
            return max + 1;
        words[count].s = line + start;
        words[count].len = i - start;
        count++;
    }
    return count;
}

static bool word_is(const struct word *w, const char *literal)
{
    size_t n = strlen(literal);
    return w->len == n && memcmp(w->s, literal, n) == 0;
}

__attribute__((format(printf, 2, 3))) static size_t reply(char *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, KV_RESPONSE_MAX - 1, fmt, ap);
    va_end(ap);
    size_t len = n < 0 ? 0 : (size_t)n;
    if (len > KV_RESPONSE_MAX - 2)
        len = KV_RESPONSE_MAX - 2;
    out[len++] = '\n';
    return len;
}

static size_t do_set(struct kv_store *store, struct kv_log *log, const struct word *key,
                     const struct word *value, char *out)
{
    if (!kv_key_valid(key->s, key->len))
        return reply(out, "ERR bad key");
    if (!kv_value_valid(value->s, value->len))
        return reply(out, "ERR bad value");
    switch (kv_set(store, log, key->s, key->len, value->s, value->len)) {
    case KV_SET_OK:
        return reply(out, "OK");
    case KV_SET_FULL:
        return reply(out, "ERR full");
    case KV_SET_NOMEM:
        return reply(out, "ERR out of memory");
    case KV_SET_IO:
        break;
    }
    if (log->failed)
        return reply(out, "ERR log unavailable: %s", strerror(errno));
    return reply(out, "ERR log write failed: %s", strerror(errno));
}

size_t kv_handle_line(struct kv_store *store, struct kv_log *log, const char *line, size_t len,
                      char *out)
{
    if (len > 0 && line[len - 1] == '\r')
        len--;
    struct word w[3];
    int n = split_words(line, len, w, 3);
    if (n == 0)
        return reply(out, "ERR empty line");
    if (word_is(&w[0], "SET")) {
        if (n != 3)
            return reply(out, "ERR usage: SET <key> <value>");
        return do_set(store, log, &w[1], &w[2], out);
    }
    if (word_is(&w[0], "GET")) {
        if (n != 2)
            return reply(out, "ERR usage: GET <key>");
        if (!kv_key_valid(w[1].s, w[1].len))
            return reply(out, "ERR bad key");
        size_t value_len;
        const char *value = kv_get(store, w[1].s, w[1].len, &value_len);
        if (!value)
            return reply(out, "NOTFOUND");
        return reply(out, "VALUE %.*s", (int)value_len, value);
    }
    if (word_is(&w[0], "COUNT")) {
        if (n != 1)
            return reply(out, "ERR usage: COUNT");
        return reply(out, "%u", (unsigned)store->count);
    }
    if (word_is(&w[0], "PING")) {
        if (n != 1)
            return reply(out, "ERR usage: PING");
        return reply(out, "PONG");
    }
    return reply(out, "ERR unknown command");
}

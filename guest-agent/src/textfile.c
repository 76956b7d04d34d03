/* Reading small /proc and /sys text files under the --root prefix into fixed buffers. */
#include "textfile.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int path_join(char *out, size_t cap, const char *root, const char *rel)
{
    int n = snprintf(out, cap, "%s%s", root, rel);
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int path_printf(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, cap, fmt, ap);
    va_end(ap);
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

long read_text_file(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    size_t len = 0;
    long result = 0;
    for (;;) {
        if (len == cap - 1) {
            char probe;
            ssize_t extra = read(fd, &probe, 1);
            result = extra == 0 ? (long)len : -EFBIG;
            break;
        }
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            result = -errno;
            break;
        }
        if (n == 0) {
            result = (long)len;
            break;
        }
        len += (size_t)n;
    }
    close(fd);
    buf[result >= 0 ? (size_t)result : 0] = '\0';
    return result;
}

int parse_u64(const char *text, int base, uint64_t *out)
{
    while (isspace((unsigned char)*text)) {
        text++;
    }
    if (!isxdigit((unsigned char)*text)) {
        return -EINVAL; /* strtoull would accept a sign or an empty string */
    }
    char *end;
    errno = 0;
    unsigned long long value = strtoull(text, &end, base);
    if (errno == ERANGE) {
        return -ERANGE;
    }
    while (isspace((unsigned char)*end)) {
        end++;
    }
    if (*end != '\0') {
        return -EINVAL;
    }
    *out = value;
    return 0;
}

int parse_numbered_name(const char *name, const char *prefix, unsigned *out_id)
{
    size_t prefix_len = strlen(prefix);
    if (strncmp(name, prefix, prefix_len) != 0 || !isdigit((unsigned char)name[prefix_len])) {
        return -EINVAL;
    }
    char *end;
    errno = 0;
    unsigned long id = strtoul(name + prefix_len, &end, 10);
    if (errno == ERANGE || *end != '\0' || id > UINT_MAX) {
        return -EINVAL;
    }
    *out_id = (unsigned)id;
    return 0;
}

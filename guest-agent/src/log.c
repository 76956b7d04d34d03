/* Logging to stderr (the guest console) with a fixed "baton-agent: " prefix. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LOG_LINE_MAX_BYTES 512

void log_msg(const char *fmt, ...)
{
    char line[LOG_LINE_MAX_BYTES];
    int saved_errno = errno;
    size_t prefix_len = strlen(LOG_PREFIX);
    memcpy(line, LOG_PREFIX, prefix_len);

    /* Room for the text, its NUL, and then the newline that replaces the NUL. */
    size_t text_cap = sizeof(line) - prefix_len - 1;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line + prefix_len, text_cap, fmt, ap);
    va_end(ap);
    size_t len = prefix_len;
    if (n > 0) {
        len += (size_t)n < text_cap ? (size_t)n : text_cap - 1; /* truncated */
    }
    line[len++] = '\n';
    /* One write per line so lines from the agent never interleave mid-line; a failed
     * log write has nowhere better to go, so it is ignored. */
    ssize_t ignored = write(STDERR_FILENO, line, len);
    (void)ignored;
    errno = saved_errno;
}

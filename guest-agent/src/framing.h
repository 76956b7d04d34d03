/* Line framing on the port: splitting input into capped lines, writing whole lines. */
#ifndef BATON_FRAMING_H
#define BATON_FRAMING_H

#include <stdbool.h>
#include <stddef.h>

#include "agent.h"

struct line_reader {
    char line[LINE_MAX_BYTES]; /* up to LINE_MAX_BYTES - 1 bytes of content and a NUL */
    size_t len;
    bool is_discarding; /* inside an over-long line, waiting for its newline */
};

/* Called once per complete line (without '\n', NUL-terminated), and once per over-long line
 * as soon as it is detected (line NULL, is_too_long true). Empty lines are skipped. */
typedef void (*line_handler)(void *ctx, const char *line, size_t len, bool is_too_long);

void line_reader_reset(struct line_reader *reader);
void line_reader_feed(struct line_reader *reader, const char *data, size_t len,
                      line_handler handle, void *ctx);

enum write_result {
    WRITE_OK,
    WRITE_TIMED_OUT, /* the host did not drain the port in time; the line was dropped */
    WRITE_HUNG_UP,   /* the host side is gone (POLLHUP, EPIPE, EIO, ...) */
    WRITE_FAILED,    /* any other error; errno is set */
};

struct line_writer {
    int fd; /* non-blocking */
    bool is_mid_line; /* a timed-out write left part of a line; the next write ends it first */
};

/* Writes line (ending in '\n'), waiting at most timeout_ms for the port to accept it. */
enum write_result write_line(struct line_writer *writer, const char *line, size_t len,
                             int timeout_ms);

#endif

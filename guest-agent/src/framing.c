/* Line framing on the port: splitting input into capped lines, writing whole lines. */
#include "framing.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"

void line_reader_reset(struct line_reader *reader)
{
    reader->len = 0;
    reader->is_discarding = false;
}

void line_reader_feed(struct line_reader *reader, const char *data, size_t len,
                      line_handler handle, void *ctx)
{
    while (len > 0) {
        const char *newline = memchr(data, '\n', len);
        size_t chunk = newline ? (size_t)(newline - data) : len;
        if (!reader->is_discarding) {
            if (reader->len + chunk > LINE_MAX_BYTES - 1) {
                reader->is_discarding = true;
                reader->len = 0;
                handle(ctx, NULL, 0, true);
            } else {
                memcpy(reader->line + reader->len, data, chunk);
                reader->len += chunk;
            }
        }
        if (!newline) {
            return;
        }
        if (!reader->is_discarding && reader->len > 0) {
            reader->line[reader->len] = '\0';
            handle(ctx, reader->line, reader->len, false);
        }
        line_reader_reset(reader);
        data += chunk + 1;
        len -= chunk + 1;
    }
}

static bool is_hangup_errno(int err)
{
    return err == EPIPE || err == EIO || err == ECONNRESET || err == ENOTCONN || err == ENODEV;
}

/* Writes all of data before deadline_ms; *written says how much went out. */
static enum write_result write_all(int fd, const char *data, size_t len, int64_t deadline_ms,
                                   size_t *written)
{
    *written = 0;
    while (*written < len) {
        ssize_t n = write(fd, data + *written, len - *written);
        if (n > 0) {
            *written += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            return is_hangup_errno(errno) ? WRITE_HUNG_UP : WRITE_FAILED;
        }
        int64_t remaining_ms = deadline_ms - monotonic_ms();
        if (remaining_ms <= 0) {
            return WRITE_TIMED_OUT;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        int ready = poll(&pfd, 1, (int)remaining_ms);
        /* virtio-serial reports POLLHUP (and never POLLOUT) while the host is disconnected. */
        if (ready > 0 && (pfd.revents & (POLLHUP | POLLERR)) && !(pfd.revents & POLLOUT)) {
            return WRITE_HUNG_UP;
        }
        if (ready < 0 && errno != EINTR) {
            return WRITE_FAILED;
        }
    }
    return WRITE_OK;
}

enum write_result write_line(struct line_writer *writer, const char *line, size_t len,
                             int timeout_ms)
{
    int64_t deadline_ms = monotonic_ms() + timeout_ms;
    size_t written;
    enum write_result result;
    if (writer->is_mid_line) {
        /* End the partial line so the host discards it as one malformed line. */
        result = write_all(writer->fd, "\n", 1, deadline_ms, &written);
        if (result != WRITE_OK) {
            return result;
        }
        writer->is_mid_line = false;
    }
    result = write_all(writer->fd, line, len, deadline_ms, &written);
    if (result != WRITE_OK && written > 0) {
        writer->is_mid_line = true;
    }
    return result;
}

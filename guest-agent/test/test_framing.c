/* Tests for line framing: splitting, the 4096-byte cap, bounded and partial writes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "framing.h"

#define SEEN_MAX 8

struct seen_lines {
    int count;
    int too_long_count;
    char lines[SEEN_MAX][LINE_MAX_BYTES];
};

static void record_line(void *ctx, const char *line, size_t len, bool is_too_long)
{
    struct seen_lines *seen = ctx;
    if (is_too_long) {
        CHECK(line == NULL);
        seen->too_long_count++;
        snprintf(seen->lines[seen->count++], LINE_MAX_BYTES, "<too long>");
        return;
    }
    CHECK_INT_EQ(strlen(line), len);
    memcpy(seen->lines[seen->count++], line, len + 1);
}

static void test_reader_joins_lines_split_across_reads(void)
{
    struct line_reader reader;
    struct seen_lines seen = {0};
    line_reader_reset(&reader);
    line_reader_feed(&reader, "{\"a\":", 5, record_line, &seen);
    CHECK_INT_EQ(seen.count, 0);
    line_reader_feed(&reader, "1}\n{\"b\":2}\n{\"c\"", 15, record_line, &seen);
    CHECK_INT_EQ(seen.count, 2);
    CHECK_STR_EQ(seen.lines[0], "{\"a\":1}");
    CHECK_STR_EQ(seen.lines[1], "{\"b\":2}");
    line_reader_feed(&reader, ":3}\n", 4, record_line, &seen);
    CHECK_INT_EQ(seen.count, 3);
    CHECK_STR_EQ(seen.lines[2], "{\"c\":3}");
}

static void test_reader_skips_empty_lines(void)
{
    struct line_reader reader;
    struct seen_lines seen = {0};
    line_reader_reset(&reader);
    line_reader_feed(&reader, "\n\nx\n\n", 5, record_line, &seen);
    CHECK_INT_EQ(seen.count, 1);
    CHECK_STR_EQ(seen.lines[0], "x");
}

static void test_reader_accepts_a_line_of_exactly_4096_bytes(void)
{
    static char data[LINE_MAX_BYTES];
    memset(data, 'a', sizeof(data));
    data[LINE_MAX_BYTES - 1] = '\n';
    struct line_reader reader;
    struct seen_lines seen = {0};
    line_reader_reset(&reader);
    /* in two pieces, so the cap is checked across reads */
    line_reader_feed(&reader, data, 1000, record_line, &seen);
    line_reader_feed(&reader, data + 1000, sizeof(data) - 1000, record_line, &seen);
    CHECK_INT_EQ(seen.count, 1);
    CHECK_INT_EQ(seen.too_long_count, 0);
    CHECK_INT_EQ(strlen(seen.lines[0]), LINE_MAX_BYTES - 1);
}

static void test_reader_reports_a_4097_byte_line_once_and_resumes(void)
{
    static char data[LINE_MAX_BYTES * 3];
    memset(data, 'b', sizeof(data));
    size_t long_len = LINE_MAX_BYTES * 2 + 7; /* well past the cap, spanning three reads */
    data[long_len] = '\n';
    memcpy(data + long_len + 1, "ok\n", 3);
    size_t total = long_len + 4;
    struct line_reader reader;
    struct seen_lines seen = {0};
    line_reader_reset(&reader);
    for (size_t off = 0; off < total; off += 1500) {
        size_t n = total - off < 1500 ? total - off : 1500;
        line_reader_feed(&reader, data + off, n, record_line, &seen);
    }
    CHECK_INT_EQ(seen.too_long_count, 1);
    CHECK_INT_EQ(seen.count, 2);
    CHECK_STR_EQ(seen.lines[1], "ok");

    /* The smallest over-long line: 4096 bytes of content plus the newline. */
    line_reader_reset(&reader);
    memset(&seen, 0, sizeof(seen));
    memset(data, 'c', LINE_MAX_BYTES);
    data[LINE_MAX_BYTES] = '\n';
    line_reader_feed(&reader, data, LINE_MAX_BYTES + 1, record_line, &seen);
    CHECK_INT_EQ(seen.too_long_count, 1);
    CHECK_INT_EQ(seen.count, 1);
}

static int make_nonblocking_pair(int fds[2])
{
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0) {
        return -1;
    }
    int small = 4096;
    setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    setsockopt(fds[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    return fcntl(fds[0], F_SETFL, O_NONBLOCK);
}

static void test_writer_times_out_and_ends_a_partial_line_first(void)
{
    int fds[2];
    CHECK(make_nonblocking_pair(fds) == 0);
    struct line_writer writer = {.fd = fds[0]};
    static char line[LINE_MAX_BYTES];
    memset(line, 'x', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\n';
    enum write_result result = WRITE_OK;
    int attempts = 0;
    /* Nobody reads fds[1]: the socket fills and a write must give up after its timeout. */
    while (result == WRITE_OK && attempts++ < 1000) {
        result = write_line(&writer, line, sizeof(line), 20);
    }
    CHECK_INT_EQ(result, WRITE_TIMED_OUT);
    CHECK(writer.is_mid_line);

    /* Drain everything, then the next line must begin with the newline ending the partial one. */
    char buf[LINE_MAX_BYTES];
    while (recv(fds[1], buf, sizeof(buf), MSG_DONTWAIT) > 0) {
    }
    CHECK_INT_EQ(write_line(&writer, "{}\n", 3, 1000), WRITE_OK);
    CHECK(!writer.is_mid_line);
    ssize_t n = recv(fds[1], buf, sizeof(buf), MSG_DONTWAIT);
    CHECK_INT_EQ(n, 4);
    CHECK(n == 4 && memcmp(buf, "\n{}\n", 4) == 0);
    close(fds[0]);
    close(fds[1]);
}

static void test_writer_reports_hangup_when_the_peer_closed(void)
{
    int fds[2];
    CHECK(make_nonblocking_pair(fds) == 0);
    close(fds[1]);
    struct line_writer writer = {.fd = fds[0]};
    CHECK_INT_EQ(write_line(&writer, "{}\n", 3, 1000), WRITE_HUNG_UP);
    close(fds[0]);
}

void register_framing_tests(void)
{
    add_test("framing: reader joins lines split across reads",
             test_reader_joins_lines_split_across_reads);
    add_test("framing: reader skips empty lines", test_reader_skips_empty_lines);
    add_test("framing: reader accepts a line of exactly 4096 bytes with its newline",
             test_reader_accepts_a_line_of_exactly_4096_bytes);
    add_test("framing: reader reports an over-long line once and resumes after its newline",
             test_reader_reports_a_4097_byte_line_once_and_resumes);
    add_test("framing: writer times out on a full port and ends the partial line next time",
             test_writer_times_out_and_ends_a_partial_line_first);
    add_test("framing: writer reports hangup when the peer closed",
             test_writer_reports_hangup_when_the_peer_closed);
}

/* Judging a health check's answer line: line (starts with expect) and http (a 2xx status). */
#include <ctype.h>
#include <string.h>

#include "health.h"

bool is_expected_answer(const char *line, const char *expect)
{
    return strncmp(line, expect, strlen(expect)) == 0;
}

int parse_http_status(const char *line)
{
    size_t prefix_len = strlen(HTTP_STATUS_PREFIX);
    if (strncmp(line, HTTP_STATUS_PREFIX, prefix_len) != 0 ||
        !isdigit((unsigned char)line[prefix_len]) || line[prefix_len + 1] != ' ') {
        return -1;
    }
    const char *code = line + prefix_len + 2;
    for (size_t i = 0; i < 3; i++) {
        if (!isdigit((unsigned char)code[i])) {
            return -1;
        }
    }
    if (code[3] != '\0' && code[3] != ' ') {
        return -1;
    }
    return (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
}

const char *answer_line(char *answer, size_t len)
{
    answer[len] = '\0';
    char *end = memchr(answer, '\n', len);
    end = end ? end : answer + len;
    while (end > answer && isspace((unsigned char)end[-1])) {
        end--;
    }
    *end = '\0';
    while (isspace((unsigned char)*answer)) {
        answer++;
    }
    for (char *c = answer; *c != '\0'; c++) {
        *c = isprint((unsigned char)*c) ? *c : '?';
    }
    return answer;
}

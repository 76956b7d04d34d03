/* In-process requests: one line through protocol_handle_line with the fixture root. */
#ifndef BATON_TEST_ANSWER_H
#define BATON_TEST_ANSWER_H

#include "agent.h"
#include "apps.h"
#include "protocol.h"

#define NO_ID (-1)

/* What answer() uses; tests may change them after reset_answers(), which answer() calls
 * first if nobody did: the fixture root, heartbeat 250 ms, faults off, no disk wait. */
extern struct agent_config answer_config;
extern struct apps answer_apps;
void reset_answers(void);

/* The answer line (with its newline) to line; checks that it is one well-formed line. */
const char *answer(const char *line);

/* Checks an answer's envelope: `reply` with ok:false and the id, or `error` without one; and,
 * when message is not NULL, the exact error message. */
#define CHECK_FAILURE(line, id, code) check_failure(__FILE__, __LINE__, line, id, code, NULL)
#define CHECK_FAILURE_MESSAGE(line, id, code, message) \
    check_failure(__FILE__, __LINE__, line, id, code, message)
void check_failure(const char *file, int at, const char *line, long long id, const char *code,
                   const char *message);

#endif

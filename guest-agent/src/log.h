/* Logging to stderr (the guest console) with a fixed "baton-agent: " prefix. */
#ifndef BATON_LOG_H
#define BATON_LOG_H

#define LOG_PREFIX "baton-agent: "

void log_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

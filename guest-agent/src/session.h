/* The agent's main loop: wait for the host, say hello, heartbeat, answer requests. */
#ifndef BATON_SESSION_H
#define BATON_SESSION_H

#include <signal.h>

#include "agent.h"

/* Runs until *stop is set (or, with cfg->is_once, until the host closes the channel). */
void run_agent(const struct agent_config *cfg, const volatile sig_atomic_t *stop);

#endif

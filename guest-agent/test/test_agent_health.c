#include "check.h"
void register_agent_health_tests(void) {}

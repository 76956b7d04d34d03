#include "check.h"
void register_agent_severity_tests(void) {}

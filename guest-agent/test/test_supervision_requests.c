#include "check.h"
void register_supervision_request_tests(void) {}

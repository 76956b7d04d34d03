// The test suites of the native core, one per core module; main.cc runs them all.
#ifndef BATON_NATIVE_TEST_SUITES_H_
#define BATON_NATIVE_TEST_SUITES_H_

#include <vector>

#include "check.h"

std::vector<baton_test::TestCase> KvmProbeTests();
std::vector<baton_test::TestCase> MemfdAreaTests();
std::vector<baton_test::TestCase> PeerCredentialsTests();
std::vector<baton_test::TestCase> PidfdTests();

#endif  // BATON_NATIVE_TEST_SUITES_H_

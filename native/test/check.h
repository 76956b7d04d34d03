// Minimal test harness for the Node-free native core: named cases, EXPECT, a pass/fail summary.
#ifndef BATON_NATIVE_TEST_CHECK_H_
#define BATON_NATIVE_TEST_CHECK_H_

#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <vector>

namespace baton_test {

struct TestCase {
  const char* name;
  void (*run)();
};

// Failures recorded by the case currently running; reset by RunAll before each case.
inline int& CurrentFailures() {
  static int failures = 0;
  return failures;
}

inline void Expect(bool condition, const char* expression, const char* file, int line) {
  if (condition) return;
  ++CurrentFailures();
  std::printf("  expectation failed: %s (%s:%d)\n", expression, file, line);
}

// Runs `call` and returns the E it throws; records a failure and returns nullopt when it throws none.
template <typename E, typename Call>
std::optional<E> CatchAs(Call&& call, const char* expression, const char* file, int line) {
  try {
    call();
  } catch (const E& error) {
    return error;
  }
  Expect(false, expression, file, line);
  return std::nullopt;
}

inline bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Runs every case, prints one line per case and the summary; returns the process exit code.
inline int RunAll(const std::vector<TestCase>& cases) {
  int passed = 0;
  int failed = 0;
  for (const TestCase& test_case : cases) {
    CurrentFailures() = 0;
    try {
      test_case.run();
    } catch (const std::exception& error) {
      ++CurrentFailures();
      std::printf("  unexpected exception: %s\n", error.what());
    }
    const bool ok = CurrentFailures() == 0;
    std::printf("%s %s\n", ok ? "ok  " : "FAIL", test_case.name);
    ++(ok ? passed : failed);
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}

}  // namespace baton_test

#define EXPECT(condition) ::baton_test::Expect((condition), #condition, __FILE__, __LINE__)
// The exception of type `type` that `call` (a lambda) throws, or nullopt plus a recorded failure.
#define CATCH_AS(type, call) ::baton_test::CatchAs<type>((call), "throws " #type, __FILE__, __LINE__)

#endif  // BATON_NATIVE_TEST_CHECK_H_

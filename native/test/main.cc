// Runs every suite of the Node-free native core and prints one summary line.
#include <vector>

#include "check.h"
#include "suites.h"

int main() {
  std::vector<baton_test::TestCase> cases;
  for (const auto& suite : {KvmProbeTests(), MemfdAreaTests(), PeerCredentialsTests(), PidfdTests()}) {
    cases.insert(cases.end(), suite.begin(), suite.end());
  }
  return baton_test::RunAll(cases);
}

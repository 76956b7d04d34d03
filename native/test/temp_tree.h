// Temporary directory trees for the native core tests: a self-removing temp dir and a fake /sys/module.
#ifndef BATON_NATIVE_TEST_TEMP_TREE_H_
#define BATON_NATIVE_TEST_TEMP_TREE_H_

#include <stdlib.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <system_error>

#include "../src/syscall_error.h"

namespace baton_test {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on scope exit.
class TempDir {
 public:
  TempDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr ? tmp : "/tmp") + "/baton-kvm-probe-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      throw baton::SyscallError("mkdtemp", errno, "Creating " + pattern);
    }
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;  // best effort: a leftover temp dir does not affect the result
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A module root holding one directory per given module name, like /sys/module.
inline std::string MakeModuleRoot(const TempDir& dir, std::initializer_list<const char*> modules) {
  const std::string root = dir.path() + "/module";
  std::filesystem::create_directory(root);
  for (const char* module : modules) std::filesystem::create_directory(root + "/" + module);
  return root;
}

}  // namespace baton_test

#endif  // BATON_NATIVE_TEST_TEMP_TREE_H_

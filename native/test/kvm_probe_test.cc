// Tests the KVM probe core against fake module trees and fake devices; needs no Node and no KVM.
#include "../src/kvm_probe.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "../src/syscall_error.h"
#include "check.h"
#include "suites.h"
#include "temp_tree.h"

namespace {

using baton::KvmDeviceAccess;
using baton::KvmProbe;
using baton_test::Contains;
using baton_test::MakeModuleRoot;
using baton_test::TempDir;

// Facts of a device that opened and answered API 12 with user memory, modules as given.
KvmProbe MakeOpenedProbe(bool intel, bool amd, bool pvm) {
  KvmProbe probe;
  probe.device_path = "/dev/kvm";
  probe.access = KvmDeviceAccess::kOpened;
  probe.api_version = 12;
  probe.capabilities = {{"KVM_CAP_USER_MEMORY", 1}};
  probe.modules = {intel, amd, pvm};
  return probe;
}

void DecidesPvmOnlyIsNotUsable() {
  const baton::KvmVerdict verdict = baton::DecideKvmUsability(MakeOpenedProbe(false, false, true));
  EXPECT(!verdict.is_usable);
  EXPECT(Contains(verdict.reason, "served by kvm_pvm"));
  EXPECT(Contains(verdict.reason, "neither kvm_intel nor kvm_amd"));
}

void DecidesIntelIsUsable() {
  const baton::KvmVerdict verdict = baton::DecideKvmUsability(MakeOpenedProbe(true, false, false));
  EXPECT(verdict.is_usable);
  EXPECT(Contains(verdict.reason, "served by kvm_intel"));
}

void DecidesAmdIsUsable() {
  const baton::KvmVerdict verdict = baton::DecideKvmUsability(MakeOpenedProbe(false, true, false));
  EXPECT(verdict.is_usable);
  EXPECT(Contains(verdict.reason, "served by kvm_amd"));
}

void DecidesIntelNextToPvmIsUsable() {
  const baton::KvmVerdict verdict = baton::DecideKvmUsability(MakeOpenedProbe(true, false, true));
  EXPECT(verdict.is_usable);
  EXPECT(Contains(verdict.reason, "kvm_intel"));
}

void DecidesMissingDeviceIsNotUsable() {
  KvmProbe probe;
  probe.device_path = "/dev/kvm";
  probe.access = KvmDeviceAccess::kMissing;
  probe.access_errno = ENOENT;
  probe.modules = {true, false, false};
  const baton::KvmVerdict verdict = baton::DecideKvmUsability(probe);
  EXPECT(!verdict.is_usable);
  EXPECT(Contains(verdict.reason, "/dev/kvm does not exist: "));
}

void DecidesPermissionDeniedNamesTheFix() {
  KvmProbe probe = MakeOpenedProbe(true, false, false);
  probe.access = KvmDeviceAccess::kPermissionDenied;
  probe.access_errno = EACCES;
  probe.api_version.reset();
  const baton::KvmVerdict verdict = baton::DecideKvmUsability(probe);
  EXPECT(!verdict.is_usable);
  EXPECT(Contains(verdict.reason, "permission denied"));
  EXPECT(Contains(verdict.reason, "EACCES"));
  EXPECT(Contains(verdict.reason, "group kvm"));
}

void DecidesWrongApiVersionIsNotUsable() {
  KvmProbe probe = MakeOpenedProbe(true, false, false);
  probe.api_version = 11;
  const baton::KvmVerdict verdict = baton::DecideKvmUsability(probe);
  EXPECT(!verdict.is_usable);
  EXPECT(Contains(verdict.reason, "API version 11"));
}

void DecidesMissingUserMemoryIsNotUsable() {
  KvmProbe probe = MakeOpenedProbe(true, false, false);
  probe.capabilities = {{"KVM_CAP_USER_MEMORY", 0}};
  EXPECT(!baton::DecideKvmUsability(probe).is_usable);
}

void ReadsModulesFromTheGivenRoot() {
  const TempDir dir;
  const baton::KvmModules pvm_only = baton::ReadKvmModules(MakeModuleRoot(dir, {"kvm", "kvm_pvm"}));
  EXPECT(!pvm_only.is_kvm_intel_loaded && !pvm_only.is_kvm_amd_loaded && pvm_only.is_kvm_pvm_loaded);
  std::filesystem::create_directory(dir.path() + "/module/kvm_amd");
  EXPECT(baton::ReadKvmModules(dir.path() + "/module").is_kvm_amd_loaded);
  const baton::KvmModules none = baton::ReadKvmModules(dir.path() + "/no-such-root");
  EXPECT(!none.is_kvm_intel_loaded && !none.is_kvm_amd_loaded && !none.is_kvm_pvm_loaded);
}

void ProbesMissingDeviceAsResult() {
  const TempDir dir;
  const KvmProbe probe = baton::ProbeKvm({dir.path() + "/kvm", MakeModuleRoot(dir, {"kvm_pvm"})});
  EXPECT(probe.access == KvmDeviceAccess::kMissing);
  EXPECT(!probe.is_usable);
  EXPECT(!probe.api_version.has_value());
  EXPECT(probe.capabilities.empty());
  EXPECT(probe.modules.is_kvm_pvm_loaded);
  EXPECT(Contains(probe.reason, dir.path() + "/kvm does not exist: "));
}

void ProbesRegularFileAsNotKvm() {
  const TempDir dir;
  const std::string file = dir.path() + "/not-kvm";
  std::fclose(std::fopen(file.c_str(), "w"));
  const KvmProbe probe = baton::ProbeKvm({file, MakeModuleRoot(dir, {"kvm_intel"})});
  EXPECT(probe.access == KvmDeviceAccess::kNotKvm);
  EXPECT(probe.access_errno == ENOTTY);
  EXPECT(!probe.is_usable);
  EXPECT(Contains(probe.reason, "is not a KVM device"));
}

void ThrowsSyscallErrorForDirectory() {
  const TempDir dir;
  try {
    baton::ProbeKvm({dir.path(), MakeModuleRoot(dir, {})});
    EXPECT(false && "ProbeKvm on a directory should throw");
  } catch (const baton::SyscallError& error) {
    EXPECT(error.code() == "EISDIR");
    EXPECT(error.syscall() == "open");
    EXPECT(error.errnum() == EISDIR);
    EXPECT(Contains(error.what(), "Opening " + dir.path() + " failed: EISDIR"));
  }
}

// Uses the host's real device with fake module trees; passes trivially where /dev/kvm cannot be opened.
void DecidesRealDeviceByModuleTree() {
  const int fd = open(baton::kDefaultKvmDevicePath, O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    std::printf("  note: %s cannot be opened here, real-device checks skipped\n",
                baton::kDefaultKvmDevicePath);
    return;
  }
  close(fd);
  const TempDir pvm_dir;
  const KvmProbe pvm =
      baton::ProbeKvm({baton::kDefaultKvmDevicePath, MakeModuleRoot(pvm_dir, {"kvm_pvm"})});
  EXPECT(pvm.api_version == 12);
  EXPECT(!pvm.is_usable);
  EXPECT(Contains(pvm.reason, "kvm_pvm"));
  const TempDir intel_dir;
  const KvmProbe intel =
      baton::ProbeKvm({baton::kDefaultKvmDevicePath, MakeModuleRoot(intel_dir, {"kvm_intel"})});
  EXPECT(intel.is_usable);
  EXPECT(Contains(intel.reason, "kvm_intel"));
}

void NamesErrnosStably() {
  EXPECT(baton::ErrnoName(EACCES) == "EACCES");
  EXPECT(baton::ErrnoName(4095) == "ERRNO_4095");
}

}  // namespace

std::vector<baton_test::TestCase> KvmProbeTests() {
  return {
      {"decides pvm-only KVM is not usable", DecidesPvmOnlyIsNotUsable},
      {"decides kvm_intel is usable", DecidesIntelIsUsable},
      {"decides kvm_amd is usable", DecidesAmdIsUsable},
      {"decides kvm_intel next to kvm_pvm is usable", DecidesIntelNextToPvmIsUsable},
      {"decides a missing device is not usable", DecidesMissingDeviceIsNotUsable},
      {"decides permission denied and names the fix", DecidesPermissionDeniedNamesTheFix},
      {"decides API version 11 is not usable", DecidesWrongApiVersionIsNotUsable},
      {"decides missing KVM_CAP_USER_MEMORY is not usable", DecidesMissingUserMemoryIsNotUsable},
      {"reads vendor modules from the given root", ReadsModulesFromTheGivenRoot},
      {"probes a missing device as a result", ProbesMissingDeviceAsResult},
      {"probes a regular file as not a KVM device", ProbesRegularFileAsNotKvm},
      {"throws SyscallError for a directory", ThrowsSyscallErrorForDirectory},
      {"decides the real device by the module tree", DecidesRealDeviceByModuleTree},
      {"names errnos stably", NamesErrnosStably},
  };
}

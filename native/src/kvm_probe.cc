// Probes /dev/kvm with open + KVM_GET_API_VERSION + KVM_CHECK_EXTENSION and decides usability.
#include "kvm_probe.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "syscall_error.h"
#include "unique_fd.h"

namespace baton {
namespace {

constexpr const char* kKvmIntelModule = "kvm_intel";
constexpr const char* kKvmAmdModule = "kvm_amd";
constexpr const char* kKvmPvmModule = "kvm_pvm";
constexpr const char* kUserMemoryCapability = "KVM_CAP_USER_MEMORY";

struct CapabilityQuery {
  const char* name;
  int id;
};

// Reported by name; KVM_CAP_USER_MEMORY is the one QEMU refuses to run without.
constexpr CapabilityQuery kCapabilityQueries[] = {
    {kUserMemoryCapability, KVM_CAP_USER_MEMORY},
    {"KVM_CAP_IRQCHIP", KVM_CAP_IRQCHIP},
    {"KVM_CAP_HLT", KVM_CAP_HLT},
    {"KVM_CAP_NR_VCPUS", KVM_CAP_NR_VCPUS},
    {"KVM_CAP_MAX_VCPUS", KVM_CAP_MAX_VCPUS},
    {"KVM_CAP_NR_MEMSLOTS", KVM_CAP_NR_MEMSLOTS},
    {"KVM_CAP_SET_TSS_ADDR", KVM_CAP_SET_TSS_ADDR},
    {"KVM_CAP_EXT_CPUID", KVM_CAP_EXT_CPUID},
};

bool HasModuleDirectory(const std::string& module_root, const char* module_name) {
  const std::string path = module_root + "/" + module_name;
  struct stat info {};
  if (stat(path.c_str(), &info) == 0) return S_ISDIR(info.st_mode);
  if (errno == ENOENT || errno == ENOTDIR) return false;
  throw SyscallError("stat", errno, "Reading " + path);
}

// Maps an open() errno to the access state it means, or kOpened when the errno is unexpected.
KvmDeviceAccess AccessForOpenErrno(int errnum) {
  switch (errnum) {
    case ENOENT:
    case ENOTDIR:
      return KvmDeviceAccess::kMissing;
    case EACCES:
    case EPERM:
      return KvmDeviceAccess::kPermissionDenied;
    case ENXIO:
    case ENODEV:
      return KvmDeviceAccess::kNoDriver;
    default:
      return KvmDeviceAccess::kOpened;
  }
}

std::string DescribeErrno(int errnum) { return ErrnoName(errnum) + " (" + ErrnoDescription(errnum) + ")"; }

std::string NameVendorModules(const KvmModules& modules) {
  if (modules.is_kvm_intel_loaded && modules.is_kvm_amd_loaded) return "kvm_intel and kvm_amd";
  if (modules.is_kvm_intel_loaded) return kKvmIntelModule;
  return kKvmAmdModule;
}

}  // namespace

KvmVerdict DecideKvmUsability(const KvmProbe& probe) {
  const std::string& path = probe.device_path;
  const KvmModules& modules = probe.modules;
  const bool has_vendor_module = modules.is_kvm_intel_loaded || modules.is_kvm_amd_loaded;
  switch (probe.access) {
    case KvmDeviceAccess::kMissing:
      return {false, path + " does not exist: no KVM module is loaded or the CPU has no hardware "
                            "virtualization (load kvm_intel or kvm_amd; check VT-x/AMD-V in firmware)"};
    case KvmDeviceAccess::kPermissionDenied:
      return {false, path + " is not accessible: permission denied, " + DescribeErrno(probe.access_errno) +
                         "; add the user to group kvm (sudo usermod -aG kvm <user>, then log in again) "
                         "and make sure " + path + " is group kvm with mode 0660"};
    case KvmDeviceAccess::kNoDriver:
      return {false, path + " has no driver behind it: open failed with " +
                         DescribeErrno(probe.access_errno) + "; load kvm_intel or kvm_amd"};
    case KvmDeviceAccess::kNotKvm:
      return {false, path + " is not a KVM device: KVM_GET_API_VERSION failed with " +
                         DescribeErrno(probe.access_errno)};
    case KvmDeviceAccess::kOpened:
      break;
  }
  const int api_version = probe.api_version.value_or(-1);
  if (api_version != kExpectedKvmApiVersion) {
    return {false, path + " speaks KVM API version " + std::to_string(api_version) + ", but QEMU needs " +
                       std::to_string(kExpectedKvmApiVersion)};
  }
  if (modules.is_kvm_pvm_loaded && !has_vendor_module) {
    return {false, path + " is served by kvm_pvm (a PVM-only KVM) and neither kvm_intel nor kvm_amd is "
                          "loaded: a stock guest kernel hangs under it"};
  }
  if (FindCapability(probe, kUserMemoryCapability).value_or(0) <= 0) {
    return {false, path + " lacks KVM_CAP_USER_MEMORY, which QEMU requires"};
  }
  if (!has_vendor_module) {
    return {true, path + " is usable: KVM API 12; no kvm_intel, kvm_amd or kvm_pvm module found, so KVM "
                         "is built in or this is not x86"};
  }
  std::string reason = path + " is usable: KVM API 12 served by " + NameVendorModules(modules);
  if (modules.is_kvm_pvm_loaded) reason += " (kvm_pvm is loaded too)";
  return {true, reason};
}

std::optional<int> FindCapability(const KvmProbe& probe, const std::string& name) {
  for (const KvmCapability& capability : probe.capabilities) {
    if (capability.name == name) return capability.value;
  }
  return std::nullopt;
}

KvmModules ReadKvmModules(const std::string& module_root) {
  KvmModules modules;
  modules.is_kvm_intel_loaded = HasModuleDirectory(module_root, kKvmIntelModule);
  modules.is_kvm_amd_loaded = HasModuleDirectory(module_root, kKvmAmdModule);
  modules.is_kvm_pvm_loaded = HasModuleDirectory(module_root, kKvmPvmModule);
  return modules;
}

KvmProbe ProbeKvm(const KvmProbeRequest& request) {
  KvmProbe probe;
  probe.device_path = request.device_path;
  probe.modules = ReadKvmModules(request.module_root);

  const std::string& path = request.device_path;
  const UniqueFd device(open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (device.get() < 0) {
    const int open_errno = errno;
    probe.access = AccessForOpenErrno(open_errno);
    if (probe.access == KvmDeviceAccess::kOpened) throw SyscallError("open", open_errno, "Opening " + path);
    probe.access_errno = open_errno;
  } else {
    const int api_version = ioctl(device.get(), KVM_GET_API_VERSION, 0);
    if (api_version < 0) {
      const int ioctl_errno = errno;
      if (ioctl_errno != ENOTTY && ioctl_errno != EINVAL) {
        throw SyscallError("ioctl", ioctl_errno, "KVM_GET_API_VERSION on " + path);
      }
      probe.access = KvmDeviceAccess::kNotKvm;
      probe.access_errno = ioctl_errno;
    } else {
      probe.access = KvmDeviceAccess::kOpened;
      probe.api_version = api_version;
    }
  }

  // KVM_CHECK_EXTENSION's meaning is only defined for the API version we know.
  if (probe.api_version == kExpectedKvmApiVersion) {
    for (const CapabilityQuery& query : kCapabilityQueries) {
      const int value = ioctl(device.get(), KVM_CHECK_EXTENSION, query.id);
      if (value < 0) {
        throw SyscallError("ioctl", errno, std::string("KVM_CHECK_EXTENSION(") + query.name + ") on " + path);
      }
      probe.capabilities.push_back({query.name, value});
    }
  }

  const KvmVerdict verdict = DecideKvmUsability(probe);
  probe.is_usable = verdict.is_usable;
  probe.reason = verdict.reason;
  return probe;
}

}  // namespace baton

// Node-free /dev/kvm probe: what the device and the loaded KVM modules say, and whether QEMU can use it.
#ifndef BATON_NATIVE_KVM_PROBE_H_
#define BATON_NATIVE_KVM_PROBE_H_

#include <optional>
#include <string>
#include <vector>

namespace baton {

constexpr const char* kDefaultKvmDevicePath = "/dev/kvm";
constexpr const char* kDefaultModuleRoot = "/sys/module";
constexpr int kExpectedKvmApiVersion = 12;

// How far opening the device got.
enum class KvmDeviceAccess {
  kMissing,           // open failed with ENOENT or ENOTDIR
  kPermissionDenied,  // open failed with EACCES or EPERM
  kNoDriver,          // open failed with ENXIO or ENODEV: a device node with no driver behind it
  kNotKvm,            // opened, but KVM_GET_API_VERSION failed with ENOTTY or EINVAL
  kOpened,            // opened and answered KVM_GET_API_VERSION
};

// Which KVM vendor modules have a directory under the module root (loaded or built in).
struct KvmModules {
  bool is_kvm_intel_loaded = false;
  bool is_kvm_amd_loaded = false;
  bool is_kvm_pvm_loaded = false;
};

struct KvmCapability {
  std::string name;  // kernel name, e.g. "KVM_CAP_USER_MEMORY"
  int value;         // KVM_CHECK_EXTENSION result: 0 = absent, otherwise capability-specific
};

// Inputs, copied off the JS heap before the probe runs on a worker thread.
struct KvmProbeRequest {
  std::string device_path = kDefaultKvmDevicePath;
  std::string module_root = kDefaultModuleRoot;  // tests point this at a temp tree
};

struct KvmProbe {
  std::string device_path;
  KvmDeviceAccess access = KvmDeviceAccess::kMissing;
  int access_errno = 0;  // errno of the failed open or ioctl; 0 when kOpened
  std::optional<int> api_version;
  std::vector<KvmCapability> capabilities;  // empty unless the API version is the expected one
  KvmModules modules;
  bool is_usable = false;
  std::string reason;
};

struct KvmVerdict {
  bool is_usable;
  std::string reason;
};

// Pure: decides usability from the facts in `probe` (its is_usable and reason are ignored).
KvmVerdict DecideKvmUsability(const KvmProbe& probe);

// Pure: looks up a capability by kernel name; nullopt when it was not queried.
std::optional<int> FindCapability(const KvmProbe& probe, const std::string& name);

// Reads the vendor modules under `module_root`. Throws SyscallError if stat fails other than ENOENT.
KvmModules ReadKvmModules(const std::string& module_root);

// Opens the device, reads its API version and capabilities, reads the modules, decides.
// A missing, forbidden or non-KVM device is a result; other failures throw SyscallError.
// Blocking; safe to call on any thread.
KvmProbe ProbeKvm(const KvmProbeRequest& request);

}  // namespace baton

#endif  // BATON_NATIVE_KVM_PROBE_H_

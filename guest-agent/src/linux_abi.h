/* Every /proc, /sys and /dev path and kernel file-format constant the agent relies on. */
#ifndef BATON_LINUX_ABI_H
#define BATON_LINUX_ABI_H

/* Paths are relative to the --root prefix ("" in a real guest). */
#define PROC_MEMINFO_PATH "/proc/meminfo"
#define PROC_UPTIME_PATH "/proc/uptime"
#define PROC_CMDLINE_PATH "/proc/cmdline"
#define PROC_BOOT_ID_PATH "/proc/sys/kernel/random/boot_id"
/* The kernel release, as `uname -r` prints it (hello's kernelRelease). */
#define PROC_OSRELEASE_PATH "/proc/sys/kernel/osrelease"
/* Present when the virtio_mem driver is registered (built in, or its module loaded): hello's
 * virtioMem. The host moves memory only with virtio-mem and refuses a guest without it. */
#define SYSFS_VIRTIO_MEM_DRIVER_DIR "/sys/bus/virtio/drivers/virtio_mem"

#define SYSFS_MEMORY_DIR "/sys/devices/system/memory"
#define SYSFS_MEMORY_BLOCK_SIZE_PATH SYSFS_MEMORY_DIR "/block_size_bytes"
#define SYSFS_MEMORY_BLOCK_PREFIX "memory" /* memoryN/ */
#define SYSFS_MEMORY_BLOCK_STATE_FILE "state"
#define SYSFS_MEMORY_STATE_ONLINE "online"
/* How the kernel onlines hot-plugged memory blocks; "offline" leaves them for userspace. The agent
 * writes online_movable there at start (memhp_default_state= on the command line does the same). */
#define SYSFS_MEMORY_AUTO_ONLINE_PATH SYSFS_MEMORY_DIR "/auto_online_blocks"
#define MEMORY_AUTO_ONLINE_OFFLINE "offline"
#define MEMORY_AUTO_ONLINE_MOVABLE "online_movable"

#define SYSFS_NODE_DIR "/sys/devices/system/node"
#define SYSFS_NODE_PREFIX "node" /* nodeN/ */
#define SYSFS_NODE_MEMINFO_FILE "meminfo"

#define PROC_SYSRQ_TRIGGER_PATH "/proc/sysrq-trigger"
/* Writing this to the sysrq trigger crashes the kernel (panic; pvpanic tells QEMU). */
#define SYSRQ_CRASH_COMMAND "c"

/* Suspend-to-idle: writing "freeze" to the power state stops everything in the guest until a
 * wakeup event. */
#define SYSFS_POWER_STATE_PATH "/sys/power/state"
#define POWER_STATE_FREEZE "freeze"

/* cgroup v2: each app with memoryBytes or node gets CGROUP_BATON_DIR/<name>. Control files are
 * opened like a shell redirect (O_CREAT | O_TRUNC), so fixture trees get plain files. */
#define SYSFS_CGROUP_DIR "/sys/fs/cgroup"
/* The agent's own cgroup: "0::<path>" is the cgroup v2 line. When that path is not "/" and the
 * agent is alone in it (systemd Delegate=yes), apps go below it instead of CGROUP_BATON_DIR:
 * the agent moves itself to <own>/CGROUP_AGENT_LEAF and apps to <own>/CGROUP_APPS_LEAF/<name>. */
#define PROC_SELF_CGROUP_PATH "/proc/self/cgroup"
#define PROC_CGROUP_V2_PREFIX "0::"
#define CGROUP_AGENT_LEAF "agent"
#define CGROUP_APPS_LEAF "apps"
#define CGROUP_BATON_DIR SYSFS_CGROUP_DIR "/baton"
#define CGROUP_DIR_MODE 0755
#define CGROUP_SUBTREE_CONTROL_FILE "cgroup.subtree_control"
#define CGROUP_PROCS_FILE "cgroup.procs"
#define CGROUP_KILL_FILE "cgroup.kill" /* Linux 5.14+: writing CGROUP_KILL_ALL SIGKILLs the group */
#define CGROUP_KILL_ALL "1"
#define CGROUP_MEMORY_MAX_FILE "memory.max"
#define CGROUP_MEMORY_MAX_NONE "max" /* no limit */
#define CGROUP_MEMORY_EVENTS_FILE "memory.events"
#define CGROUP_CPUSET_MEMS_FILE "cpuset.mems"
/* Written to a parent's subtree_control; the kernel refuses the whole line when a controller
 * is unavailable, so memory alone is tried next. */
#define CGROUP_ENABLE_MEMORY_CPUSET "+memory +cpuset"
#define CGROUP_ENABLE_MEMORY "+memory"
/* memory.events: "key N" lines; oom_kill counts processes the OOM killer killed. */
#define MEMORY_EVENTS_OOM_KILL_KEY "oom_kill"

#define SYSFS_VIRTIO_PORTS_DIR "/sys/class/virtio-ports"
#define SYSFS_VIRTIO_PORT_NAME_FILE "name"
#define DEV_DIR "/dev"
/* Apps get it as stdin. Opened without the --root prefix: it is never a fixture. */
#define DEV_NULL_PATH "/dev/null"

/* Block devices: virtio-blk disks are vdX, with the host's serial=... in vdX/serial (up to
 * 20 bytes, possibly padded with NULs or followed by whitespace). */
#define SYSFS_BLOCK_DIR "/sys/block"
#define VIRTIO_BLOCK_PREFIX "vd"
#define SYSFS_BLOCK_SERIAL_FILE "serial"
#define DISK_FS_TYPE "ext4"
#define DISK_MOUNT_DIR_MODE 0755

/* Accounts: the agent is static (glibc's NSS does not work in it), so it reads these itself.
 * Lines are "name:password:uid:gid:..." (passwd) and "name:password:gid:members" (group). */
#define ETC_PASSWD_PATH "/etc/passwd"
#define ETC_GROUP_PATH "/etc/group"
/* Longer lines are skipped whole: no account of ours is that long. */
#define ACCOUNT_LINE_MAX_BYTES 1024
/* Largest uid/gid accepted: (uid_t)-1 means "unchanged" to setresuid and chown. */
#define ACCOUNT_ID_MAX 4294967294ULL

/* systemctl, run for unit apps (argv arrays, never a shell). */
#define SYSTEMCTL_PATH "/bin/systemctl"
/* A unit app's runtime drop-in (gone at reboot): <dir>/<unit>.d/<file>. NUMAPolicy and
 * NUMAMask are exec settings, which `systemctl set-property` takes only for transient units,
 * so the agent writes them (with MemoryMax and Restart=no) here and runs daemon-reload. */
#define SYSTEMD_RUNTIME_UNIT_DIR "/run/systemd/system"
#define UNIT_DROP_IN_FILE "50-baton.conf"

/* The virtio-serial port name QEMU gives the agent channel (virtserialport name=...). */
#define AGENT_PORT_NAME "org.baton.agent.0"

/* Kernel command-line parameter that sets the heartbeat period. */
#define CMDLINE_HEARTBEAT_KEY "baton.heartbeat_ms="
/* Kernel command-line parameter that enables fault injection ("1" enables it). */
#define CMDLINE_FAULTS_KEY "baton.faults="
#define CMDLINE_FAULTS_ON "1"

/* meminfo keys ("Key:   N kB"; node files prefix each line with "Node N "). */
#define MEMINFO_KEY_TOTAL "MemTotal"
#define MEMINFO_KEY_FREE "MemFree"
#define MEMINFO_KEY_AVAILABLE "MemAvailable"
#define MEMINFO_UNIT_KB " kB"
#define MEMINFO_BYTES_PER_KB 1024ULL

/* block_size_bytes is printed in hexadecimal without a 0x prefix. */
#define SYSFS_BLOCK_SIZE_BASE 16

/* /proc/uptime: "seconds.fraction idle-seconds.fraction". */
#define UPTIME_MS_PER_SECOND 1000ULL

/* Largest sysfs/procfs text file the agent reads whole (meminfo is about 1.5 KiB). */
#define PROC_FILE_MAX_BYTES 8192
/* The kernel caps the command line at COMMAND_LINE_SIZE (2048 on x86). */
#define PROC_CMDLINE_MAX_BYTES 4096
/* boot_id is a 36-character UUID. */
#define BOOT_ID_MAX_CHARS 64
/* uname's release field holds 64 characters and a NUL. */
#define KERNEL_RELEASE_MAX_CHARS 64

#endif

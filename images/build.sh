#!/usr/bin/env bash
# Builds the baton guest image: Debian's cloud kernel plus a busybox initramfs that runs the
# guest agent. Outputs images/out/{vmlinuz,initramfs.cpio.gz,manifest.json}.
set -euo pipefail

IMAGES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$IMAGES_DIR")
OUT_DIR=$IMAGES_DIR/out
CACHE_DIR=$IMAGES_DIR/cache
ROOTFS_DIR=$IMAGES_DIR/rootfs
LOCK_FILE=$IMAGES_DIR/kernel.lock
MODULES_LIST=$IMAGES_DIR/modules.list
CONFIG_REQUIRED=$IMAGES_DIR/kernel-config.required
META_PACKAGE=linux-image-cloud-amd64
AGENT_BIN=${BATON_AGENT_BIN:-$REPO_DIR/guest-agent/out/baton-agent}
APPS_OUT=$IMAGES_DIR/apps/out
APPS=(kvd) # demo applications, built by 'make -C images/apps', installed as /apps/<name>
BUSYBOX_BIN=${BATON_BUSYBOX_BIN:-/bin/busybox}
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-0}
DEPMOD=$(command -v depmod || echo /sbin/depmod)

usage() {
    cat <<EOF
Usage: images/build.sh [--force] [--update-kernel] [--check-reproducible]

Builds images/out/vmlinuz and images/out/initramfs.cpio.gz for baton guests.
Needs the guest agent (make -C guest-agent) and the demo apps (make -C images/apps).

  --force               rebuild even if the outputs match the inputs
  --update-kernel       re-pin images/kernel.lock to what $META_PACKAGE points to now
  --check-reproducible  pack the initramfs a second time from a fresh tree and compare bytes

Environment:
  BATON_AGENT_BIN     guest agent binary (default: guest-agent/out/baton-agent)
  BATON_BUSYBOX_BIN   static busybox (default: /bin/busybox from busybox-static)
  SOURCE_DATE_EPOCH   timestamp for every file in the initramfs (default: 0)
EOF
}

info() { echo "images: $*"; }
progress() { echo "images: $*..."; }
warn() { echo "images: $*" >&2; }
die() {
    echo "images: error: $*" >&2
    exit 1
}
sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# shellcheck source=lib/kernel.sh
source "$IMAGES_DIR/lib/kernel.sh"
# shellcheck source=lib/modules.sh
source "$IMAGES_DIR/lib/modules.sh"
# shellcheck source=lib/rootfs.sh
source "$IMAGES_DIR/lib/rootfs.sh"

force=0 update_kernel=0 check_reproducible=0
for arg in "$@"; do
    case $arg in
        --force) force=1 ;;
        --update-kernel) update_kernel=1 ;;
        --check-reproducible) check_reproducible=1 ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $arg" ;;
    esac
done

for tool in apt-get apt-cache dpkg dpkg-query cpio gzip sha256sum flock find; do
    command -v "$tool" > /dev/null || die "$tool is required"
done
[[ -x $DEPMOD ]] || die "depmod (package kmod) is required"
grep -q -- --reproducible <<<"$(cpio --help)" || die "GNU cpio with --reproducible (2.13+) is required"
if [[ ! -x $AGENT_BIN ]]; then
    die "guest agent binary $AGENT_BIN not found: run 'make -C guest-agent' first"
fi
[[ -x $BUSYBOX_BIN ]] || die "busybox $BUSYBOX_BIN not found: apt-get install busybox-static"
APP_BINS=()
for app in "${APPS[@]}"; do
    [[ -x $APPS_OUT/$app ]] ||
        die "demo app binary $APPS_OUT/$app not found: run 'make -C images/apps' first"
    APP_BINS+=("$APPS_OUT/$app")
done
require_static_elf "$AGENT_BIN" "guest agent"
require_static_elf "$BUSYBOX_BIN" busybox
for bin in "${APP_BINS[@]}"; do require_static_elf "$bin" "demo app"; done

mkdir -p "$OUT_DIR" "$CACHE_DIR"
exec 9> "$OUT_DIR/.build.lock"
flock 9 # one build at a time per checkout

# input_fingerprint: SHA-256 over everything the outputs are made from. Content, not mtimes, so a
# fresh checkout or a touched file does not force a rebuild and a changed agent or app always does.
input_fingerprint() {
    {
        echo "SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH"
        (cd "$IMAGES_DIR" && find build.sh lib rootfs modules.list kernel-config.required kernel.lock \
            -type f -print0 2>/dev/null | LC_ALL=C sort -z | xargs -0 sha256sum)
        sha256sum "$AGENT_BIN" "$BUSYBOX_BIN" "${APP_BINS[@]}"
    } | sha256sum | cut -d' ' -f1
}

STAMP=$OUT_DIR/.inputs.sha256
if [[ $force == 0 && $update_kernel == 0 && $check_reproducible == 0 && -f $STAMP &&
    -f $OUT_DIR/vmlinuz && -f $OUT_DIR/initramfs.cpio.gz && -f $OUT_DIR/manifest.json &&
    $(< "$STAMP") == "$(input_fingerprint)" ]]; then
    # Same content, but give make a target newer than the inputs it compares by mtime.
    touch "$OUT_DIR/vmlinuz" "$OUT_DIR/initramfs.cpio.gz" "$OUT_DIR/manifest.json"
    info "image up to date ($OUT_DIR)"
    exit 0
fi

KERNEL_LOCK_CHANGED=0
resolve_kernel "$update_kernel"
unpack_kernel
if [[ $KERNEL_LOCK_CHANGED == 1 ]]; then
    write_lock "$KERNEL_PACKAGE" "$KERNEL_VERSION" "$KERNEL_SHA256" "$KERNEL_RELEASE"
    info "pinned $KERNEL_PACKAGE $KERNEL_VERSION in $(basename "$LOCK_FILE")"
fi
info "kernel $KERNEL_PACKAGE $KERNEL_VERSION ($KERNEL_RELEASE)"
check_kernel_config "$CONFIG_REQUIRED"
resolve_modules "$MODULES_LIST"
load_names=()
for path in "${MODULE_LOAD_ORDER[@]}"; do
    module_name "$path"
    load_names+=("$REPLY")
done
info "modules in load order: ${load_names[*]}"
[[ ${#MODULES_BUILTIN[@]} -eq 0 ]] || info "built in: ${MODULES_BUILTIN[*]}"

WORK_DIR=$(mktemp -d "$OUT_DIR/.work.XXXXXX")
trap 'rm -rf "$WORK_DIR"' EXIT

progress "staging the initramfs tree"
stage_rootfs "$WORK_DIR/root"
progress "packing initramfs.cpio.gz"
pack_rootfs "$WORK_DIR/root" "$WORK_DIR/initramfs.cpio.gz"
if [[ $check_reproducible == 1 ]]; then
    progress "packing again from a fresh tree to check reproducibility"
    stage_rootfs "$WORK_DIR/root2"
    pack_rootfs "$WORK_DIR/root2" "$WORK_DIR/initramfs2.cpio.gz"
    cmp -s "$WORK_DIR/initramfs.cpio.gz" "$WORK_DIR/initramfs2.cpio.gz" ||
        die "two packs of the same inputs differ: the initramfs is not reproducible"
    info "reproducible: two packs are byte-identical"
fi
cp "$KERNEL_IMAGE" "$WORK_DIR/vmlinuz"

read -r busybox_package busybox_ver <<< "$(busybox_version)"
apps_json="{"
for app in "${APPS[@]}"; do
    [[ $apps_json == "{" ]] || apps_json+=","
    apps_json+=$'\n'"    \"$app\": \"$(sha256_of "$APPS_OUT/$app")\""
done
apps_json+=$'\n'"  }"
initramfs_sha=$(sha256_of "$WORK_DIR/initramfs.cpio.gz")
cat > "$WORK_DIR/manifest.json" <<EOF
{
  "kernel": {
    "package": "$KERNEL_PACKAGE",
    "version": "$KERNEL_VERSION",
    "debSha256": "$KERNEL_SHA256",
    "release": "$KERNEL_RELEASE",
    "vmlinuzSha256": "$(sha256_of "$WORK_DIR/vmlinuz")"
  },
  "busybox": {
    "package": "$busybox_package",
    "version": "$busybox_ver",
    "sha256": "$(sha256_of "$BUSYBOX_BIN")"
  },
  "agentSha256": "$(sha256_of "$AGENT_BIN")",
  "appsSha256": $apps_json,
  "initramfsSha256": "$initramfs_sha",
  "modules": $(module_names_json "${MODULE_LOAD_ORDER[@]}"),
  "builtinModules": $(module_names_json "${MODULES_BUILTIN[@]}"),
  "sourceDateEpoch": $SOURCE_DATE_EPOCH
}
EOF

# Outputs appear together: each is renamed into place, the stamp last.
rm -f "$STAMP"
mv -f "$WORK_DIR/vmlinuz" "$OUT_DIR/vmlinuz"
mv -f "$WORK_DIR/initramfs.cpio.gz" "$OUT_DIR/initramfs.cpio.gz"
mv -f "$WORK_DIR/manifest.json" "$OUT_DIR/manifest.json"
input_fingerprint > "$STAMP"

human_size() { awk -v b="$(stat -c %s "$1")" 'BEGIN { if (b >= 1048576) printf "%.1f MiB", b / 1048576; else printf "%.0f KiB", b / 1024 }'; }
info "built vmlinuz $(human_size "$OUT_DIR/vmlinuz"), initramfs.cpio.gz $(human_size "$OUT_DIR/initramfs.cpio.gz") in $OUT_DIR"

#!/usr/bin/env bash
# Builds the Debian 12 guest (systemd, cloud kernel, Redis, PostgreSQL 15, baton-agent .deb) with
# mmdebstrap into images/out/debian/{base.qcow2,vmlinuz,initrd.img,boot.json,manifest.json}.
set -euo pipefail

DEBIAN_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IMAGES_DIR=$(dirname "$DEBIAN_DIR")
REPO_DIR=$(dirname "$IMAGES_DIR")
OUT_DIR=$IMAGES_DIR/out/debian
SUITE=bookworm
AGENT_DEB=${BATON_AGENT_DEB:-}
FREE_MIB=${BATON_DEBIAN_FREE_MIB:-512} # free space left in the root filesystem
CMDLINE="root=LABEL=root ro"
# Services baton supervises: installed, never started at boot.
SUPERVISED_UNITS=(redis-server.service postgresql.service postgresql@15-main.service)
# Units a baton guest does not need; masked so boot does not wait for them.
MASKED_UNITS=(apt-daily.timer apt-daily-upgrade.timer apt-daily.service apt-daily-upgrade.service
    e2scrub_all.timer e2scrub_all.service e2scrub_reap.service fstrim.timer dpkg-db-backup.timer
    logrotate.timer man-db.timer getty@tty1.service getty-static.service
    systemd-networkd-wait-online.service systemd-timesyncd.service sys-kernel-debug.mount
    sys-kernel-tracing.mount sys-kernel-config.mount sys-fs-fuse-connections.mount
    modprobe@fuse.service modprobe@dm_mod.service modprobe@loop.service)

info() { echo "images: debian: $*"; }
die() {
    echo "images: debian: error: $*" >&2
    exit 1
}

force=0
for arg in "$@"; do
    case $arg in
        --force) force=1 ;;
        -h | --help)
            echo "Usage: images/debian/build.sh [--force]   (BATON_AGENT_DEB=path overrides the agent package)"
            exit 0
            ;;
        *) die "unknown argument: $arg" ;;
    esac
done

[[ $(id -u) -eq 0 ]] || die "mmdebstrap --mode=root needs root (run as root or with sudo)"
for tool in mmdebstrap mkfs.ext4 qemu-img dpkg-query sha256sum flock; do
    command -v "$tool" > /dev/null || die "$tool is required (make setup installs it)"
done
if [[ -z $AGENT_DEB ]]; then
    shopt -s nullglob
    debs=("$REPO_DIR"/guest-agent/out/baton-agent_*_amd64.deb)
    shopt -u nullglob
    [[ ${#debs[@]} -eq 1 ]] || die "expected one guest-agent/out/baton-agent_*_amd64.deb, found ${#debs[@]}: run 'make -C guest-agent deb'"
    AGENT_DEB=${debs[0]}
fi
[[ -f $AGENT_DEB ]] || die "agent package $AGENT_DEB not found"

mkdir -p "$OUT_DIR"
exec 9> "$OUT_DIR/.build.lock"
flock 9

mapfile -t PACKAGES < <(grep -v '^\s*#' "$DEBIAN_DIR/packages.list" | grep -v '^\s*$')

# Content of every input; Debian's mirror is not an input (--force picks up newer packages).
input_fingerprint() {
    {
        echo "suite=$SUITE free=$FREE_MIB"
        (cd "$DEBIAN_DIR" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
        sha256sum < "$AGENT_DEB"
    } | sha256sum | cut -d' ' -f1
}
STAMP=$OUT_DIR/.inputs.sha256
OUTPUTS=(base.qcow2 vmlinuz initrd.img boot.json manifest.json)
if [[ $force == 0 && -f $STAMP && $(< "$STAMP") == "$(input_fingerprint)" ]]; then
    is_complete=1
    for f in "${OUTPUTS[@]}"; do [[ -f $OUT_DIR/$f ]] || is_complete=0; done
    if [[ $is_complete == 1 ]]; then
        (cd "$OUT_DIR" && touch "${OUTPUTS[@]}")
        info "image up to date ($OUT_DIR)"
        exit 0
    fi
fi

started_s=$(date +%s)
WORK_DIR=$(mktemp -d "$OUT_DIR/.work.XXXXXX")
trap 'rm -rf "$WORK_DIR"' EXIT
TREE=$WORK_DIR/tree
cp "$AGENT_DEB" "$WORK_DIR/baton-agent.deb"

include=$(IFS=,; echo "${PACKAGES[*]}")
info "mmdebstrap $SUITE minbase + $include (from the host's apt sources)"
# Hooks (run outside the tree, $1 = the tree):
# - setup: the initrd must mount a virtio-blk root whatever initramfs-tools' MODULES policy, and loads
#   virtio_mem before systemd starts (the agent, which starts early, reports the driver in its hello);
# - customize: the agent package, the files under rootfs/, units enabled, disabled and masked.
mmdebstrap --mode=root --variant=minbase --include="$include" \
    --aptopt='Acquire::Languages "none"' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/baton-agent/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --setup-hook='mkdir -p "$1/etc/initramfs-tools"' \
    --setup-hook='printf "virtio_pci\nvirtio_blk\nvirtio_console\nvirtio_mem\next4\n" > "$1/etc/initramfs-tools/modules"' \
    --customize-hook="copy-in $WORK_DIR/baton-agent.deb /tmp" \
    --customize-hook='chroot "$1" dpkg -i /tmp/baton-agent.deb && rm "$1/tmp/baton-agent.deb"' \
    --customize-hook="sync-in $DEBIAN_DIR/rootfs /" \
    --customize-hook='chroot "$1" chown -R postgres:postgres /etc/postgresql/15/main' \
    --customize-hook='chmod 0640 "$1"/etc/postgresql/15/main/pg_hba.conf' \
    --customize-hook='chroot "$1" systemctl enable systemd-networkd.service baton-agent.service' \
    --customize-hook="chroot \"\$1\" systemctl disable ${SUPERVISED_UNITS[*]}" \
    --customize-hook="chroot \"\$1\" systemctl mask ${MASKED_UNITS[*]}" \
    --customize-hook='rm -f "$1"/etc/machine-id "$1"/var/lib/dbus/machine-id && touch "$1"/etc/machine-id' \
    "$SUITE" "$TREE" 2>&1 | sed -u 's/^/images: debian: mmdebstrap: /'

info "checking the tree"
shopt -s nullglob
kernels=("$TREE"/boot/vmlinuz-*)
initrds=("$TREE"/boot/initrd.img-*)
shopt -u nullglob
[[ ${#kernels[@]} -eq 1 && ${#initrds[@]} -eq 1 ]] || die "expected one kernel and one initrd in /boot, found ${#kernels[@]} and ${#initrds[@]}"
release=${kernels[0]##*/vmlinuz-}
initrd_modules=$(lsinitramfs "${initrds[0]}" 2>/dev/null || chroot "$TREE" lsinitramfs "/boot/initrd.img-$release")
for module in virtio_blk virtio_pci virtio_mem; do
    grep -q "/$module\.ko" <<< "$initrd_modules" ||
        grep -qw "$module" "$TREE/lib/modules/$release/modules.builtin" ||
        die "the initrd has no $module: a virtio-blk root would not mount, or the agent could start before virtio_mem is loaded"
done
[[ -x $TREE/usr/sbin/baton-agent ]] || die "the tree has no /usr/sbin/baton-agent"

used_kib=$(du -s -k --apparent-size "$TREE" | cut -f1)
size_mib=$(((used_kib * 12 / 10) / 1024 + FREE_MIB))
info "mkfs.ext4 -d: ${size_mib} MiB filesystem ($((used_kib / 1024)) MiB used)"
truncate -s "${size_mib}M" "$WORK_DIR/root.raw"
mkfs.ext4 -q -F -L root -d "$TREE" "$WORK_DIR/root.raw"
info "qemu-img convert -O qcow2"
qemu-img convert -f raw -O qcow2 "$WORK_DIR/root.raw" "$WORK_DIR/base.qcow2"
cp "${kernels[0]}" "$WORK_DIR/vmlinuz"
cp "${initrds[0]}" "$WORK_DIR/initrd.img"

version_of() { dpkg-query --admindir="$TREE/var/lib/dpkg" -W -f='${Version}' "$1"; }
kernel_package=linux-image-$release
size_of() { stat -c %s "$WORK_DIR/$1"; }
build_seconds=$(($(date +%s) - started_s))
cat > "$WORK_DIR/boot.json" <<JSON
{
  "format": "qcow2",
  "disk": "base.qcow2",
  "kernel": "vmlinuz",
  "initrd": "initrd.img",
  "cmdline": "$CMDLINE"
}
JSON
cat > "$WORK_DIR/manifest.json" <<JSON
{
  "suite": "$SUITE",
  "kernel": { "package": "$kernel_package", "version": "$(version_of "$kernel_package")", "release": "$release" },
  "packages": {
    "systemd": "$(version_of systemd)",
    "redis-server": "$(version_of redis-server)",
    "postgresql-15": "$(version_of postgresql-15)",
    "baton-agent": "$(version_of baton-agent)"
  },
  "agentDebSha256": "$(sha256sum < "$AGENT_DEB" | cut -d' ' -f1)",
  "sizeBytes": {
    "base.qcow2": $(size_of base.qcow2),
    "filesystem": $(size_of root.raw),
    "filesystemUsed": $((used_kib * 1024)),
    "vmlinuz": $(size_of vmlinuz),
    "initrd.img": $(size_of initrd.img)
  },
  "buildSeconds": $build_seconds
}
JSON

rm -f "$STAMP"
for f in "${OUTPUTS[@]}"; do mv -f "$WORK_DIR/$f" "$OUT_DIR/$f"; done
input_fingerprint > "$STAMP"
info "built base.qcow2 ($(($(stat -c %s "$OUT_DIR/base.qcow2") / 1048576)) MiB), kernel $release in ${build_seconds}s ($OUT_DIR)"

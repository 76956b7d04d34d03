# shellcheck shell=bash
# Initramfs tree and reproducible packing for images/build.sh.
# Sourced, not run. Uses the kernel/module results plus ROOTFS_DIR, AGENT_BIN, BUSYBOX_BIN,
# APPS and APPS_OUT.

# stage_rootfs DIR: builds the whole initramfs tree in DIR (which must be empty).
stage_rootfs() {
    local root=$1 link
    mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,run,tmp,root,mnt,etc/baton,apps}
    cp "$BUSYBOX_BIN" "$root/bin/busybox"
    # Every applet, at the path busybox itself names; the agent and demo apps may use any of them.
    while read -r link; do
        [[ -n $link && $link != bin/busybox && ! -e $root/$link ]] || continue
        mkdir -p "$root/$(dirname "$link")"
        ln -s /bin/busybox "$root/$link"
    done < <("$BUSYBOX_BIN" --list-full | LC_ALL=C sort)
    cp -R "$ROOTFS_DIR"/. "$root"/
    cp "$AGENT_BIN" "$root/sbin/baton-agent"
    local app
    for app in "${APPS[@]}"; do
        cp "$APPS_OUT/$app" "$root/apps/$app"
    done
    install_modules "$root" "$root/etc/baton/modules.load"
    normalize_tree "$root"
}

# normalize_tree DIR: modes and times that do not depend on umask, checkout or build time.
normalize_tree() {
    local root=$1
    find "$root" -type d -exec chmod 0755 {} +
    find "$root" -type f -perm /111 -exec chmod 0755 {} +
    find "$root" -type f ! -perm /111 -exec chmod 0644 {} +
    chmod 1777 "$root/tmp"
    chmod 0700 "$root/root"
    find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
}

# pack_rootfs DIR OUTPUT: newc cpio of DIR (sorted names, owner 0:0, no host inode or device
# numbers), gzip without name or time. Same tree in, same bytes out.
pack_rootfs() {
    local root=$1 output=$2
    (
        cd "$root" || exit 1
        find . -mindepth 1 -printf '%P\0' | LC_ALL=C sort -z |
            cpio --quiet --null --create --format=newc --reproducible --owner=0:0
    ) | gzip -n -9 > "$output"
}

# busybox_version: Debian package version when dpkg owns the binary, else the banner's version.
busybox_version() {
    local owner
    owner=$(dpkg-query -S "$(readlink -f "$BUSYBOX_BIN")" 2>/dev/null ||
        dpkg-query -S "$BUSYBOX_BIN" 2>/dev/null || true)
    owner=${owner%%:*}
    if [[ -n $owner ]]; then
        echo "$owner $(dpkg-query -W -f='${Version}' "$owner")"
    else
        echo "unpackaged $("$BUSYBOX_BIN" 2>&1 | head -n 1 | awk '{ print $2 }')"
    fi
}

# require_static_elf FILE WHAT: the initramfs has no dynamic loader or libc.
require_static_elf() {
    command -v readelf > /dev/null || return 0 # best effort: without binutils we cannot tell
    if readelf -l "$1" 2>/dev/null | grep -q 'INTERP'; then
        die "$2 $1 is dynamically linked; the guest has no libc, build it static"
    fi
}

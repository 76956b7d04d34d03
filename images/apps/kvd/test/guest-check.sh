#!/usr/bin/env bash
# Checks kvd in a real guest: boots images/out/{vmlinuz,initramfs.cpio.gz} under TCG with
# rdinit=/bin/sh, starts /apps/kvd from the serial console with its data on an ext4 virtio-blk
# disk, and talks to it from the host through a user-networking forward (127.0.0.1:PORT -> guest
# 7000): PING, 20 SETs, then QEMU is SIGKILLed, the guest booted again, and the keys must be back.
#
# Usage: images/apps/kvd/test/guest-check.sh [HOST_PORT]   (default 17001)
# Needs: qemu-system-x86_64, mkfs.ext4, and an image built with 'make -C images/apps' and
# images/build.sh. The guest's console goes to a log in a temporary directory (kept on failure).
set -euo pipefail

IMAGES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
HOST_PORT=${1:-17001}
GUEST_PORT=7000
KEYS=20
for f in vmlinuz initramfs.cpio.gz; do
    [[ -f $IMAGES_DIR/out/$f ]] || { echo "guest-check: $IMAGES_DIR/out/$f missing: run images/build.sh" >&2; exit 1; }
done
for tool in qemu-system-x86_64 mkfs.ext4; do
    command -v "$tool" > /dev/null || { echo "guest-check: $tool is required" >&2; exit 1; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kvd-guest.XXXXXX")
# A private copy, so a concurrent image build cannot swap files under a running check.
cp "$IMAGES_DIR/out/vmlinuz" "$IMAGES_DIR/out/initramfs.cpio.gz" "$WORK/"
truncate -s 64M "$WORK/disk.img"
mkfs.ext4 -q -F "$WORK/disk.img"
QEMU_PID=
ok=0
cleanup() {
    [[ -n $QEMU_PID ]] && kill -9 "$QEMU_PID" 2> /dev/null && wait "$QEMU_PID" 2> /dev/null
    if [[ $ok == 1 ]]; then rm -rf "$WORK"; else echo "guest-check: console logs kept in $WORK" >&2; fi
}
trap cleanup EXIT
trap '' PIPE

say() { echo "guest-check: $*"; }
die() { echo "guest-check: FAIL: $*" >&2; exit 1; }

# wait_for LOG TEXT SECONDS
wait_for() {
    local i
    for ((i = 0; i < $3 * 2; i++)); do
        grep -qF -- "$2" "$1" 2> /dev/null && return 0
        kill -0 "$QEMU_PID" 2> /dev/null || return 1
        sleep 0.5
    done
    return 1
}

# boot N: starts QEMU with the serial console on a FIFO, waits for the shell, starts kvd.
boot() {
    local log=$WORK/console.$1.log
    rm -f "$WORK/serial.in"
    mkfifo "$WORK/serial.in"
    qemu-system-x86_64 -machine q35 -accel tcg,tb-size=16 -m 128M -smp 1 -nodefaults -nographic \
        -serial stdio -kernel "$WORK/vmlinuz" -initrd "$WORK/initramfs.cpio.gz" \
        -append "console=ttyS0 panic=-1 rdinit=/bin/sh" \
        -netdev "user,id=net0,hostfwd=tcp:127.0.0.1:$HOST_PORT-:$GUEST_PORT" \
        -device virtio-net-pci,netdev=net0 \
        -drive "file=$WORK/disk.img,format=raw,if=none,id=data" \
        -device virtio-blk-pci,drive=data,serial=kvdata \
        < "$WORK/serial.in" > "$log" 2>&1 &
    QEMU_PID=$!
    exec {SERIAL}> "$WORK/serial.in"
    wait_for "$log" '/ # ' 180 || die "boot $1: no shell prompt on the console ($log)"
    # What /init does that kvd needs (filesystems, drivers, eth0), then kvd on the disk.
    local cmd
    # shellcheck disable=SC2016 # expanded by the guest's shell
    for cmd in \
        'mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev' \
        'r=$(uname -r); while read m; do insmod /lib/modules/$r/$m; done < /etc/baton/modules.load' \
        'ip link set lo up; ip link set eth0 up; ip addr add 10.0.2.15/24 dev eth0' \
        "mkdir -p /data/kv; mount -t ext4 /dev/vda /data/kv; /apps/kvd --port $GUEST_PORT --data /data/kv &"; do
        printf '%s\n' "$cmd" >&"$SERIAL"
        sleep 0.5
    done
    wait_for "$log" "kvd: listening on port $GUEST_PORT" 120 || die "boot $1: kvd did not start ($log)"
    grep -F 'kvd: replayed' "$log" | tr -d '\r' | sed 's/^.*kvd:/  guest: kvd:/'
}

kill_qemu() {
    kill -9 "$QEMU_PID"
    wait "$QEMU_PID" 2> /dev/null || true
    QEMU_PID=
    exec {SERIAL}>&-
}

# request LINE: one request on a fresh connection; prints the reply (empty if none).
request() {
    local fd reply=
    exec {fd}<> "/dev/tcp/127.0.0.1/$HOST_PORT" || return 0
    printf '%s\n' "$1" 1>&"$fd" 2> /dev/null || true
    IFS= read -r -t 10 reply <&"$fd" || true
    exec {fd}>&-
    printf '%s' "$reply"
}

# ping_until_pong: the forward accepts before the guest listens, so retry.
ping_until_pong() {
    local i
    for ((i = 0; i < 60; i++)); do
        [[ $(request PING) == PONG ]] && return 0
        sleep 1
    done
    return 1
}

say "boot 1 (TCG, host 127.0.0.1:$HOST_PORT -> guest $GUEST_PORT)"
boot 1
ping_until_pong || die "no PONG from 127.0.0.1:$HOST_PORT"
say "PING -> PONG"
if [[ -x /bin/busybox ]]; then
    [[ $(echo PING | timeout 10 /bin/busybox nc 127.0.0.1 "$HOST_PORT") == PONG ]] ||
        die "echo PING | busybox nc 127.0.0.1 $HOST_PORT did not answer PONG"
    say "echo PING | busybox nc 127.0.0.1 $HOST_PORT -> PONG"
fi
exec {C}<> "/dev/tcp/127.0.0.1/$HOST_PORT"
for ((i = 1; i <= KEYS; i++)); do
    printf 'SET guest.%d value-%d\n' "$i" "$i" >&"$C"
    IFS= read -r -t 10 reply <&"$C" || reply=
    [[ $reply == OK ]] || die "SET guest.$i answered '$reply'"
done
exec {C}>&-
say "$KEYS SETs acknowledged; COUNT -> $(request COUNT)"
kill_qemu
say "QEMU killed with SIGKILL"

say "boot 2"
boot 2
ping_until_pong || die "no PONG after the restart"
count=$(request COUNT)
[[ $count == "$KEYS" ]] || die "COUNT after restart is '$count', expected $KEYS"
for ((i = 1; i <= KEYS; i++)); do
    reply=$(request "GET guest.$i")
    [[ $reply == "VALUE value-$i" ]] || die "GET guest.$i after restart answered '$reply'"
done
say "after SIGKILL and reboot: COUNT -> $count, all $KEYS values back"
kill_qemu
ok=1
say "PASS"

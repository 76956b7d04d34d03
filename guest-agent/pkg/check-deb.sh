#!/usr/bin/env bash
# Checks a built baton-agent .deb: control fields, file list, modes and the unit's Delegate=yes.
set -euo pipefail
deb=${1:?usage: check-deb.sh PACKAGE.deb}
fail() { echo "check-deb: $deb: $*" >&2; exit 1; }

info=$(dpkg-deb --info "$deb") || fail "dpkg-deb --info failed"
[[ $(dpkg-deb --field "$deb" Package) == baton-agent ]] || fail "Package is not baton-agent"
[[ $(dpkg-deb --field "$deb" Architecture) == amd64 ]] || fail "Architecture is not amd64"
[[ $deb == *"_$(dpkg-deb --field "$deb" Version)_amd64.deb" ]] || fail "file name does not match Version"
for script in postinst prerm postrm; do grep -q " $script" <<< "$info" || fail "no $script"; done

contents=$(dpkg-deb --contents "$deb")
expect() { # mode path
    grep -Eq "^$1 root/root .* \./$2\$" <<< "$contents" || fail "missing $1 $2"
}
expect -rwxr-xr-x usr/sbin/baton-agent
expect -rw-r--r-- lib/systemd/system/baton-agent.service
expect -rw-r--r-- usr/share/doc/baton-agent/examples/baton-agent.openrc
expect -rw-r--r-- usr/share/doc/baton-agent/README.md

tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
dpkg-deb -x "$deb" "$tree"
unit=$tree/lib/systemd/system/baton-agent.service
grep -qx 'Delegate=yes' "$unit" || fail "the unit lacks Delegate=yes"
grep -qx 'ExecStart=/usr/sbin/baton-agent' "$unit" || fail "the unit does not run /usr/sbin/baton-agent"
readelf -l "$tree/usr/sbin/baton-agent" | grep -q INTERP && fail "the agent is not static"
"$tree/usr/sbin/baton-agent" --version > /dev/null || fail "the packaged agent does not run"
echo "check-deb: $deb ok"

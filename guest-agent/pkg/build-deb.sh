#!/usr/bin/env bash
# Packs the static agent into baton-agent_<version>_amd64.deb with dpkg-deb (byte-reproducible).
set -euo pipefail

PKG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
AGENT_DIR=$(dirname "$PKG_DIR")
AGENT_BIN=${1:?usage: build-deb.sh AGENT_BINARY OUT_DIR}
OUT_DIR=${2:?usage: build-deb.sh AGENT_BINARY OUT_DIR}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-0}

version=$(sed -n 's/^#define AGENT_VERSION "\(.*\)"$/\1/p' "$AGENT_DIR/src/agent.h")
[[ $version =~ ^[0-9][0-9A-Za-z.+~-]*$ ]] || { echo "build-deb: no AGENT_VERSION in src/agent.h" >&2; exit 1; }
deb=$OUT_DIR/baton-agent_${version}_amd64.deb

tree=$(mktemp -d "$OUT_DIR/.deb.XXXXXX")
trap 'rm -rf "$tree"' EXIT
install -D -m 0755 "$AGENT_BIN" "$tree/usr/sbin/baton-agent"
install -D -m 0644 "$PKG_DIR/baton-agent.service" "$tree/lib/systemd/system/baton-agent.service"
doc=$tree/usr/share/doc/baton-agent
install -D -m 0644 "$AGENT_DIR/README.md" "$doc/README.md"
install -D -m 0644 "$PKG_DIR/baton-agent.openrc" "$doc/examples/baton-agent.openrc"
install -D -m 0644 "$PKG_DIR/baton-agent.service" "$doc/examples/baton-agent.service"
install -d -m 0755 "$tree/DEBIAN"
for script in postinst prerm postrm; do install -m 0755 "$PKG_DIR/$script" "$tree/DEBIAN/$script"; done
installed_kb=$(du -k -s --exclude=DEBIAN "$tree" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@INSTALLED_KB@/$installed_kb/" "$PKG_DIR/control.in" > "$tree/DEBIAN/control"
(cd "$tree" && find usr lib -type f -print0 | LC_ALL=C sort -z | xargs -0 md5sum) > "$tree/DEBIAN/md5sums"
chmod 0644 "$tree/DEBIAN/control" "$tree/DEBIAN/md5sums"
find "$tree" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
dpkg-deb --root-owner-group -Zxz --build "$tree" "$deb.tmp" > /dev/null
mv -f "$deb.tmp" "$deb"
echo "build-deb: $deb"

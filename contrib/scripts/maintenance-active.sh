#!/usr/bin/env bash
# Planned maintenance of the active VM: hands its apps to the standby and brings the old active
# back as the new standby, booted afresh from the (possibly updated) guest image.
#
# It runs `baton switchover`: no fence. Each hot-standby app is stopped cleanly on the active, its
# memory unplugged there and plugged into the standby, its data disk moved, and it is started
# there; the roles swap and the old active keeps running, small, as the new standby, ready to be
# patched and rebooted. Ordinary apps restart on the new active. Clients of the stable endpoints
# wait during each app's move instead of failing. A switchover that fails moves its apps back.
#
# usage: maintenance-active.sh --yes [--state-dir DIR] [--timeout-ms MS]
# env:   BATON (the baton command, default: baton), BATON_STATE_DIR
# exit:  0 done and protected again; 1 the switchover failed (apps moved back) or timed out;
#        2 bad arguments (or no --yes); 4 no daemon; 5 refused: the pair is not protected
set -euo pipefail

BATON="${BATON:-baton}"
state_dir="${BATON_STATE_DIR:-/var/lib/baton}"
timeout_ms=120000
confirmed=no

while [ "$#" -gt 0 ]; do
	case "$1" in
	--yes) confirmed=yes; shift ;;
	--state-dir) state_dir="${2:?--state-dir needs a directory}"; shift 2 ;;
	--timeout-ms) timeout_ms="${2:?--timeout-ms needs a number}"; shift 2 ;;
	*) echo "maintenance-active: unknown argument $1" >&2; exit 2 ;;
	esac
done
command -v jq >/dev/null || { echo "maintenance-active: jq is not installed" >&2; exit 1; }

baton() {
	"$BATON" --json --state-dir "$state_dir" "$@"
}

status="$(baton status)" || { rc=$?; jq -r '.error.message' <<<"$status" >&2; exit "$rc"; }
state="$(jq -r '.state' <<<"$status")"
active="$(jq -r '.vms[] | select(.role == "active") | .name' <<<"$status")"
standby="$(jq -r '.vms[] | select(.role == "standby") | .name' <<<"$status")"
if [ "$state" != protected ]; then
	echo "maintenance-active: refused: the pair is $state, not protected; nothing was changed" >&2
	exit 5
fi
if [ "$confirmed" != yes ]; then
	echo "maintenance-active: this moves the apps of $active to $standby (no fence) and keeps $active running small as the standby; run again with --yes" >&2
	exit 2
fi

echo "maintenance-active: switching $active over to $standby ..." >&2
record="$(baton switchover --timeout-ms "$timeout_ms")" || {
	rc=$?
	jq -r '.error.message // "switchover \(.id) \(.result): \(.error)"' <<<"$record" >&2
	exit "$rc"
}
jq -r '"maintenance-active: switchover \(.id) \(.result) in \(.totalMs) ms: " + ([.phases[] | "\(.name) \(.ms)"] | join(", "))' <<<"$record" >&2

# The old active runs on as the new standby; wait until the pair says protected again.
deadline=$((SECONDS + timeout_ms / 1000))
until [ "$(baton status | jq -r '.state')" = protected ]; do
	if [ "$SECONDS" -ge "$deadline" ]; then
		echo "maintenance-active: $active did not come back as the standby within $timeout_ms ms" >&2
		exit 1
	fi
	sleep 1
done
echo "maintenance-active: protected again: $standby is the active, $active the new standby" >&2
printf '%s\n' "$record"

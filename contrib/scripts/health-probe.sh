#!/usr/bin/env bash
# Health probe for monitoring systems (Nagios, Icinga, Zabbix, Sensu): one status line and the
# plugin exit codes. 0 OK: the pair is protected. 1 WARNING: it runs unprotected (a standby
# booting, a failover under way) or an agent's heartbeat is older than --max-heartbeat-age-ms.
# 2 CRITICAL: the pair is blocked, or no daemon runs. 3 UNKNOWN: baton or jq missing, or an answer
# this probe cannot read.
#
# usage: health-probe.sh [--state-dir DIR] [--max-heartbeat-age-ms MS]
# env:   BATON (the baton command, default: baton), BATON_STATE_DIR
set -uo pipefail

BATON="${BATON:-baton}"
state_dir="${BATON_STATE_DIR:-/var/lib/baton}"
max_heartbeat_age_ms=3000

while [ "$#" -gt 0 ]; do
	case "$1" in
	--state-dir) state_dir="${2:?--state-dir needs a directory}"; shift 2 ;;
	--max-heartbeat-age-ms) max_heartbeat_age_ms="${2:?--max-heartbeat-age-ms needs a number}"; shift 2 ;;
	*) echo "BATON UNKNOWN - unknown argument: $1"; exit 3 ;;
	esac
done

for tool in "$BATON" jq; do
	command -v "$tool" >/dev/null || { echo "BATON UNKNOWN - $tool is not installed"; exit 3; }
done

status="$("$BATON" --json --state-dir "$state_dir" status 2>/dev/null)"
rc=$?
case "$rc" in
0) ;;
4) echo "BATON CRITICAL - no baton daemon runs on $state_dir"; exit 2 ;;
*)
	message="$(jq -r '.error.message // empty' <<<"$status" 2>/dev/null)"
	echo "BATON UNKNOWN - baton status failed (exit $rc): ${message:-no answer}"
	exit 3
	;;
esac

if ! summary="$(jq -r '[
	.state,
	(.blockedReason // ""),
	([.vms[] | select(.role == "active") | .name][0] // "none"),
	([.vms[] | .heartbeatAgeMs // -1] | max),
	([.apps[] | select(.state != "running") | .name] | join(",")),
	(.epoch | tostring)
] | .[] | tostring | gsub("\n"; " ")' <<<"$status")"; then
	echo "BATON UNKNOWN - cannot read baton status"
	exit 3
fi
# One field per line (a field may be empty, which tab-separated fields would lose).
{
	read -r state
	read -r blocked_reason
	read -r active
	read -r oldest_heartbeat_ms
	read -r waiting_apps
	read -r epoch
} <<<"$summary"
perfdata="heartbeat_age_ms=${oldest_heartbeat_ms};${max_heartbeat_age_ms} epoch=${epoch}"

case "$state" in
blocked)
	echo "BATON CRITICAL - pair blocked: ${blocked_reason} | ${perfdata}"
	exit 2
	;;
protected)
	if [ "$oldest_heartbeat_ms" -gt "$max_heartbeat_age_ms" ]; then
		echo "BATON WARNING - pair protected, but a heartbeat is ${oldest_heartbeat_ms} ms old | ${perfdata}"
		exit 1
	fi
	echo "BATON OK - pair protected, active ${active} | ${perfdata}"
	exit 0
	;;
unprotected | re-protecting | failing-over | moving | booting | starting | stopping)
	echo "BATON WARNING - pair ${state}, active ${active}${waiting_apps:+, waiting: ${waiting_apps}} | ${perfdata}"
	exit 1
	;;
*)
	echo "BATON UNKNOWN - pair state '${state}' | ${perfdata}"
	exit 3
	;;
esac

#!/usr/bin/env bash
# Collects what is known about one failover into a folder and a .tar.gz beside it: its record
# (trigger, result, phases), the journal lines of that failover, the pair's status and table now,
# the metrics, and a summary.md to paste into a ticket.
#
# usage: failover-report.sh [--state-dir DIR] [--out DIR] [FAILOVER_ID]   (default: the latest failover)
# env:   BATON (the baton command, default: baton), BATON_STATE_DIR
# exit:  0 written; 2 bad arguments; 4 no daemon; 5 no such failover; 1 anything else
set -euo pipefail

BATON="${BATON:-baton}"
state_dir="${BATON_STATE_DIR:-/var/lib/baton}"
out_dir="."
failover_id=""

while [ "$#" -gt 0 ]; do
	case "$1" in
	--state-dir) state_dir="${2:?--state-dir needs a directory}"; shift 2 ;;
	--out) out_dir="${2:?--out needs a directory}"; shift 2 ;;
	-*) echo "failover-report: unknown option $1" >&2; exit 2 ;;
	*) failover_id="$1"; shift ;;
	esac
done
command -v jq >/dev/null || { echo "failover-report: jq is not installed" >&2; exit 1; }

baton() {
	"$BATON" --json --state-dir "$state_dir" "$@"
}

history="$(baton history)" || {
	rc=$?
	echo "failover-report: $(jq -r '.error.message' <<<"$history" 2>/dev/null || echo "baton history failed")" >&2
	exit "$rc"
}
if [ -z "$failover_id" ]; then
	failover_id="$(jq -r 'last | .id // empty' <<<"$history")"
	[ -n "$failover_id" ] || { echo "failover-report: no failover in the history yet" >&2; exit 5; }
fi
record="$(jq --arg id "$failover_id" '.[] | select(.id == $id)' <<<"$history")"
[ -n "$record" ] || { echo "failover-report: no failover $failover_id in the history" >&2; exit 5; }

report_dir="${out_dir%/}/baton-failover-${failover_id}"
mkdir -p "$report_dir"
printf '%s\n' "$record" >"$report_dir/record.json"
baton status >"$report_dir/status.json"
baton table >"$report_dir/table.json"
"$BATON" --state-dir "$state_dir" table >"$report_dir/table.txt"
# The journal keeps every phase's intent and result with wall and monotonic times (root only).
journal_files=("$state_dir"/events.[0-9]*.jsonl "$state_dir"/events.jsonl)
for file in "${journal_files[@]}"; do
	[ -r "$file" ] && cat "$file"
done | jq -c --arg id "$failover_id" 'select(.opId == $id)' >"$report_dir/journal.jsonl" || true
if [ -S "$state_dir/baton.sock" ] && command -v curl >/dev/null; then
	curl -s --unix-socket "$state_dir/baton.sock" http://baton/metrics >"$report_dir/metrics.txt" || true
fi

jq -r '
	"# baton failover \(.id)",
	"",
	"- kind: \(.kind)\(if .app then " (app \(.app))" else "" end)",
	"- trigger: \(.trigger)",
	"- from \(.fromVm) to \(.toVm), started \(.startedAt)",
	"- result: **\(.result)**\(if .error then ": \(.error)" else "" end)",
	"- recovery: \(.totalMs) ms",
	"",
	"| phase | ms |",
	"|---|---|",
	(.phases[] | "| \(.name) | \(.ms) |")
' "$report_dir/record.json" >"$report_dir/summary.md"
{
	echo ""
	echo "Pair now: $(jq -r '.state' "$report_dir/status.json"); journal lines of this failover: $(wc -l <"$report_dir/journal.jsonl")"
} >>"$report_dir/summary.md"

tar -czf "$report_dir.tar.gz" -C "$(dirname "$report_dir")" "$(basename "$report_dir")"
echo "$report_dir.tar.gz"

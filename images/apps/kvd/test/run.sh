#!/usr/bin/env bash
# kvd tests against a real kvd on 127.0.0.1, with temporary data directories. Talks TCP through
# bash's /dev/tcp (busybox nc is used for one extra check when /bin/busybox exists).
# Usage: run.sh path/to/kvd. Prints one line per check, then "N passed, M failed".
set -u
trap '' PIPE # a write to a connection kvd closed fails with EPIPE instead of ending this script

[[ $# -eq 1 && -x $1 ]] || { echo "usage: $0 path/to/kvd" >&2; exit 2; }
KVD=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
TMP=$(mktemp -d "${TMPDIR:-/tmp}/kvd-test.XXXXXX")
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill -9 "$pid" 2> /dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT

passed=0 failed=0
pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1${2:+: $2}"; }
# check NAME EXPECTED ACTUAL
check() {
    if [[ $2 == "$3" ]]; then pass "$1"; else fail "$1" "expected '$2', got '$3'"; fi
}

# start_kvd NAME PORT DIR [ARGS...]: starts kvd, waits for its "listening" line; sets KVD_PID,
# PORT and ERR (its stderr file). Returns 1 if it exited instead.
run=0
start_kvd() {
    local name=$1 port=$2 dir=$3
    shift 3
    run=$((run + 1))
    ERR=$TMP/$name.$run.stderr
    : > "$ERR"
    "$KVD" --port "$port" --data "$dir" "$@" 2> "$ERR" &
    KVD_PID=$!
    PIDS+=("$KVD_PID")
    local i
    for ((i = 0; i < 100; i++)); do
        PORT=$(sed -n 's/^kvd: listening on port \([0-9]*\)$/\1/p' "$ERR")
        [[ -n $PORT ]] && return 0
        kill -0 "$KVD_PID" 2> /dev/null || return 1
        sleep 0.05
    done
    return 1
}

# stop_kvd SIGNAL: signals kvd and sets STATUS to its exit status.
stop_kvd() {
    kill -"$1" "$KVD_PID" 2> /dev/null
    wait "$KVD_PID" 2> /dev/null
    STATUS=$?
}

alive() { kill -0 "$KVD_PID" 2> /dev/null; }

# refused NAME MESSAGE STATUS: kvd exited with status 1 and MESSAGE in its stderr.
refused() {
    if [[ $3 == 1 && $(cat "$ERR") == *"$2"* ]]; then
        pass "$1"
    else
        fail "$1" "status $3: $(cat "$ERR")"
    fi
}

# open_conn: connects to kvd, sets C to the descriptor.
open_conn() { exec {C}<> "/dev/tcp/127.0.0.1/$PORT"; }
close_conn() { exec {C}>&-; }

# ask LINE: sends LINE + "\n" on C and sets R to the reply line (or <eof>/<timeout>).
ask() {
    printf '%s\n' "$1" >&"$C"
    recv
}
recv() {
    local status=0
    R=
    IFS= read -r -t 5 R <&"$C" || status=$?
    if ((status > 128)); then
        R="<timeout>"
    elif ((status != 0)) && [[ -z $R ]]; then
        R="<eof>"
    fi
}

# expect NAME LINE REPLY: one request on C, one exact reply.
expect() {
    ask "$2"
    check "$1" "$3" "$R"
}

repeat() { printf "%$2s" '' | tr ' ' "$1"; }

# ---------------------------------------------------------------- arguments
args_case() {
    local name=$1 out
    shift
    out=$("$KVD" "$@" 2>&1 > /dev/null)
    local status=$?
    if [[ $status == 2 && $out == *"usage: kvd --port N --data DIR"* ]]; then
        pass "bad args exit 2 with usage: $name"
    else
        fail "bad args exit 2 with usage: $name" "status $status, stderr '$out'"
    fi
}
args_case "no arguments"
args_case "--port only" --port 1
args_case "--data only" --data "$TMP/x"
args_case "--port without value" --data "$TMP/x" --port
args_case "port not a number" --port abc --data "$TMP/x"
args_case "port out of range" --port 70000 --data "$TMP/x"
args_case "negative port" --port -1 --data "$TMP/x"
args_case "unknown option" --port 1 --data "$TMP/x" --verbose
args_case "option given twice" --port 1 --port 2 --data "$TMP/x"
args_case "empty data dir" --port 1 --data ""
args_case "max-keys 0" --port 1 --data "$TMP/x" --max-keys 0
args_case "max-keys too big" --port 1 --data "$TMP/x" --max-keys 65537
out=$("$KVD" --help 2> /dev/null)
check "--help prints usage on stdout, exit 0" "0 usage: kvd --port N --data DIR [--max-keys N]" "$? $out"
if [[ ! -e $TMP/x ]]; then pass "bad args create nothing"; else fail "bad args create nothing"; fi

# ---------------------------------------------------------------- first run
DATA=$TMP/data # does not exist yet: kvd creates it
if ! start_kvd main 0 "$DATA"; then
    fail "kvd starts" "$(cat "$ERR")"
    echo "$passed passed, $failed failed"
    exit 1
fi
pass "kvd starts on a free port ($PORT)"
MAIN_PORT=$PORT
check "startup lines" "kvd: replayed 0 keys from $DATA/kv.log|kvd: listening on port $PORT" \
    "$(paste -sd'|' "$ERR")"
if [[ -f $DATA/kv.log ]]; then pass "data dir and kv.log created"; else fail "data dir and kv.log created"; fi

open_conn
expect "PING" PING PONG
expect "COUNT on an empty store" COUNT 0
expect "GET on an empty store" "GET key.1" NOTFOUND

bad=0
for i in $(seq 1 100); do
    ask "SET key.$i value-$i"
    [[ $R == OK ]] || { bad=$((bad + 1)); echo "     SET key.$i -> $R"; }
done
check "100 SETs answered OK" 0 "$bad"
expect "COUNT after 100 SETs" COUNT 100
bad=0
for i in $(seq 1 100); do
    ask "GET key.$i"
    [[ $R == "VALUE value-$i" ]] || { bad=$((bad + 1)); echo "     GET key.$i -> $R"; }
done
check "100 GETs return their values" 0 "$bad"
check "kv.log holds one record per SET" 100 "$(wc -l < "$DATA/kv.log")"
check "kv.log record format" "key.42 value-42" "$(sed -n 42p "$DATA/kv.log")"
expect "GET of a missing key" "GET nokey" NOTFOUND
expect "overwrite a key" "SET key.7 seven" OK
expect "last write wins" "GET key.7" "VALUE seven"
expect "overwrite keeps COUNT" COUNT 100

# Several requests in one write: answered in order.
printf 'PING\nGET key.1\nCOUNT\n' >&"$C"
recv; r1=$R; recv; r2=$R; recv; r3=$R
check "pipelined requests" "PONG|VALUE value-1|100" "$r1|$r2|$r3"
# 514 requests in one write (a full input buffer): replies need several rounds of the queue.
printf '\n%.0s' $(seq 1 514) >&"$C"
bad=0
for i in $(seq 1 514); do
    recv
    [[ $R == "ERR empty line" ]] || bad=$((bad + 1))
done
check "514 pipelined requests in one write all answered" 0 "$bad"
printf 'PING\r\n' >&"$C"; recv
check "CRLF line ending" PONG "$R"
printf 'GET key.2\r\n' >&"$C"; recv
check "CRLF GET has no CR in the value" "VALUE value-2" "$R"
printf 'GE' >&"$C"; sleep 0.1; printf 'T key.3\n' >&"$C"; recv
check "request split across writes" "VALUE value-3" "$R"
expect "extra spaces between words" "GET   key.4  " "VALUE value-4"

# ---------------------------------------------------------------- bad requests
expect "unknown command" "FOO bar" "ERR unknown command"
expect "commands are upper case" "ping" "ERR unknown command"
expect "empty line" "" "ERR empty line"
expect "blank line" "   " "ERR empty line"
expect "SET without value" "SET lonely" "ERR usage: SET <key> <value>"
expect "SET with a space in the value" "SET k two words" "ERR usage: SET <key> <value>"
expect "GET without key" "GET" "ERR usage: GET <key>"
expect "GET with two keys" "GET a b" "ERR usage: GET <key>"
expect "COUNT with an argument" "COUNT x" "ERR usage: COUNT"
expect "PING with an argument" "PING x" "ERR usage: PING"
expect "key with a bad character" "SET bad/key v" "ERR bad key"
expect "GET with a bad key" "GET b@d" "ERR bad key"
expect "65-character key" "SET $(repeat k 65) v" "ERR bad key"
expect "64-character key" "SET $(repeat k 64) v" OK
expect "257-character value" "SET big $(repeat v 257)" "ERR bad value"
expect "256-character value" "SET big $(repeat v 256)" OK
expect "256-character value round trip" "GET big" "VALUE $(repeat v 256)"
expect "control character in a value" "SET k a"$'\t'"b" "ERR bad value"
expect "non-ASCII value" "SET k caf"$'\xc3\xa9' "ERR bad value"
expect "control byte in a key" "GET key.1"$'\x01' "ERR bad key"
expect "rejected SETs change nothing" COUNT 102
expect "connection stays open after errors" PING PONG

# A 512-byte line is a request; 513 bytes is too long and ends the connection.
expect "512-byte line is accepted" "GET $(repeat k 508)" "ERR bad key"
printf 'GET %s\r\n' "$(repeat k 508)" >&"$C"; recv
check "512-byte line plus CRLF is accepted" "ERR bad key" "$R"
expect "513-byte line" "GET $(repeat k 509)" "ERR line too long"
recv
check "connection closed after a too-long line" "<eof>" "$R"
close_conn
open_conn
expect "600-byte line" "SET k $(repeat v 594)" "ERR line too long"
recv
check "connection closed after a 600-byte line" "<eof>" "$R"
close_conn
open_conn
printf '%s' "$(repeat x 100000)" 1>&"$C" 2> /dev/null
recv
check "100 KB without a newline" "ERR line too long" "$R"
close_conn
open_conn
expect "server still answers after too-long lines" PING PONG
close_conn

# An unterminated last request is not a request.
open_conn
printf 'SET partial value' >&"$C"
close_conn
sleep 0.2
open_conn
expect "unterminated request at EOF is ignored" "GET partial" NOTFOUND
close_conn

if [[ -x /bin/busybox ]]; then
    check "busybox nc: echo PING | nc" PONG "$(echo PING | timeout 5 /bin/busybox nc 127.0.0.1 "$PORT")"
fi

# ---------------------------------------------------------------- many clients
conns=()
for i in $(seq 1 100); do
    exec {fd}<> "/dev/tcp/127.0.0.1/$PORT" && conns+=("$fd")
done
check "100 concurrent connections open" 100 "${#conns[@]}"
for i in "${!conns[@]}"; do printf 'GET key.%d\n' $((i + 1)) >&"${conns[$i]}"; done
bad=0
for i in "${!conns[@]}"; do
    C=${conns[$i]}
    recv
    want="VALUE value-$((i + 1))"
    ((i + 1 == 7)) && want="VALUE seven"
    [[ $R == "$want" ]] || bad=$((bad + 1))
done
check "100 concurrent clients each get their answer" 0 "$bad"
for fd in "${conns[@]}"; do exec {fd}>&-; done

# Connection limit: 256 clients are served, the next one is told so and closed.
if (($(ulimit -n) >= 400)); then
    conns=()
    for i in $(seq 1 256); do
        exec {fd}<> "/dev/tcp/127.0.0.1/$PORT" && conns+=("$fd")
    done
    open_conn
    recv
    r1=$R
    recv
    check "connection 257 is refused" "ERR too many clients|<eof>" "$r1|$R"
    close_conn
    C=${conns[255]}
    expect "connection 256 is served" PING PONG
    for fd in "${conns[@]}"; do exec {fd}>&-; done
    sleep 0.2
    open_conn
    expect "slots are free again after the clients leave" PING PONG
    close_conn
else
    echo "skip connection limit (ulimit -n $(ulimit -n) < 400)"
fi

# Clients that send a lot and never read: their replies back up until kvd stops reading from
# them; it must go on serving everyone else.
writers=()
for i in 1 2 3; do
    # shellcheck disable=SC2016 # expanded by the inner shell
    timeout 3 bash -c 'exec 3<> "/dev/tcp/127.0.0.1/$1"; yes PING | head -n 50000 >&3' _ "$PORT" \
        2> /dev/null &
    writers+=($!)
done
sleep 0.5
open_conn
expect "server answers while other clients do not read" PING PONG
close_conn
wait "${writers[@]}"
if alive; then pass "kvd survives clients that never read"; else fail "kvd survives clients that never read"; fi

# ---------------------------------------------------------------- crash and replay
stop_kvd 9
check "SIGKILL" 137 "$STATUS"
if start_kvd main "$MAIN_PORT" "$DATA"; then pass "restart on the same port and data"; else fail "restart" "$(cat "$ERR")"; fi
check "startup lines after SIGKILL" "kvd: replayed 102 keys from $DATA/kv.log|kvd: listening on port $MAIN_PORT" \
    "$(paste -sd'|' "$ERR")"
open_conn
expect "COUNT after restart" COUNT 102
bad=0
for i in $(seq 1 100); do
    ask "GET key.$i"
    want="VALUE value-$i"
    ((i == 7)) && want="VALUE seven"
    [[ $R == "$want" ]] || { bad=$((bad + 1)); echo "     GET key.$i -> $R"; }
done
check "all 100 acknowledged keys survive SIGKILL" 0 "$bad"
expect "long value survives" "GET big" "VALUE $(repeat v 256)"
close_conn

# Torn last line: a record whose newline never reached the disk.
stop_kvd 9
size=$(stat -c %s "$DATA/kv.log")
printf 'torn.key torn-value' >> "$DATA/kv.log"
start_kvd main "$MAIN_PORT" "$DATA"
check "torn last record is reported" \
    "kvd: dropped an unterminated last record (19 bytes) from $DATA/kv.log" "$(head -n 1 "$ERR")"
check "replay ignores the torn record" "kvd: replayed 102 keys from $DATA/kv.log" "$(sed -n 2p "$ERR")"
check "torn tail is truncated away" "$size" "$(stat -c %s "$DATA/kv.log")"
open_conn
expect "torn key is not there" "GET torn.key" NOTFOUND
expect "SET after a torn tail" "SET after.torn ok" OK
close_conn
check "record after the torn tail is a line of its own" "after.torn ok" "$(tail -n 1 "$DATA/kv.log")"
stop_kvd 9
start_kvd main "$MAIN_PORT" "$DATA"
open_conn
expect "key written after the torn tail survives" "GET after.torn" "VALUE ok"
expect "COUNT after torn-tail recovery" COUNT 103
close_conn

# Complete but malformed lines (not written by kvd) are skipped, not fatal.
stop_kvd 9
printf 'no-value-here\nbad/key x\nk two words\n' >> "$DATA/kv.log"
start_kvd main "$MAIN_PORT" "$DATA"
check "malformed lines are skipped" "kvd: skipped 3 malformed lines in $DATA/kv.log" "$(head -n 1 "$ERR")"
open_conn
expect "malformed lines add no keys" COUNT 103
close_conn

# ---------------------------------------------------------------- exclusivity and errors
MAIN_PID=$KVD_PID MAIN_ERR=$ERR
if start_kvd second 0 "$DATA"; then
    fail "a second kvd on the same data dir is refused"
else
    wait "$KVD_PID"
    status=$?
    refused "a second kvd on the same data dir is refused" "is locked by another kvd" "$status"
fi
if start_kvd busy "$MAIN_PORT" "$TMP/other"; then
    fail "a port in use is refused"
else
    wait "$KVD_PID"
    status=$?
    refused "a port in use is refused" "Address already in use" "$status"
fi
KVD_PID=$MAIN_PID PORT=$MAIN_PORT ERR=$MAIN_ERR

# Random bytes, with and without many newlines, on several connections. Each ends with a
# too-long line, so kvd closes the connection once it has read everything.
hung=0
for round in 1 2 3 4 5; do
    head -c 65536 /dev/urandom > "$TMP/fuzz.$round"
    if ((round % 2)); then
        tr '\200-\237' '\n' < "$TMP/fuzz.$round" > "$TMP/fuzz.lines"
        mv "$TMP/fuzz.lines" "$TMP/fuzz.$round"
    fi
    printf '\n%s\n' "$(repeat x 600)" >> "$TMP/fuzz.$round"
    # shellcheck disable=SC2016 # expanded by the inner shell
    timeout 10 bash -c 'exec 3<> "/dev/tcp/127.0.0.1/$1"
        grep -a -q -m 1 "^ERR line too long" <&3 & cat "$2" >&3; wait' _ "$PORT" "$TMP/fuzz.$round" \
        2> /dev/null
    (($? == 124)) && hung=$((hung + 1))
done
check "random input connections end with ERR line too long" 0 "$hung"
if alive; then pass "kvd survives random input"; else fail "kvd survives random input"; fi
open_conn
expect "kvd answers after random input" PING PONG
close_conn

stop_kvd TERM
check "SIGTERM exits 0" 0 "$STATUS"
check "SIGTERM is logged" "kvd: SIGTERM received, exiting" "$(tail -n 1 "$ERR")"

# ---------------------------------------------------------------- capacity
FULL=$TMP/full
start_kvd full 0 "$FULL" --max-keys 3
open_conn
for k in a b c; do ask "SET $k 1"; done
check "SETs up to the cap" OK "$R"
expect "new key beyond the cap" "SET d 1" "ERR full"
expect "overwrite at the cap" "SET a 2" OK
expect "COUNT at the cap" COUNT 3
close_conn
stop_kvd 9
if start_kvd full 0 "$FULL" --max-keys 2; then
    fail "a log with more keys than --max-keys is refused"
else
    wait "$KVD_PID"
    status=$?
    refused "a log with more keys than --max-keys is refused" "holds more than 2 keys (--max-keys)" \
        "$status"
fi

echo "$passed passed, $failed failed"
[[ $failed == 0 ]]

#!/usr/bin/env bash
# The control socket from outside (docs/control.md): gorodebug --pid (list, set, stats,
# goroutines) and goro-trace capture/flight against a running control_workload.
set -uo pipefail
[[ -n ${CONTROL_TEST_TRACE:-} ]] && set -x
gorodebug=tools/gorodebug/gorodebug
gorotrace=tools/goro-trace/goro-trace
workload=tests/control_workload
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

tmp=${TEST_TMPDIR:-$(mktemp -d)}
# A private socket directory for this test (created 0700 by the workload), under /tmp: a
# socket path must fit in sun_path (107 bytes), which Bazel's TEST_TMPDIR can exceed.
sockparent=$(mktemp -d /tmp/goro-control-test.XXXXXX)
trap 'rm -rf "$sockparent"' EXIT
export GORO_CONTROL_DIR=$sockparent/d
export GORODEBUG=strict=1

# await_line FILE PATTERN: waits (up to 20 s, on the file, not on a guess) for a line.
await_line() {
  local i
  for ((i = 0; i < 2000; i++)); do
    grep -q -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.01
  done
  return 1
}

mkfifo "$tmp/stdin"
"$workload" 16 <"$tmp/stdin" >"$tmp/out" 2>"$tmp/err" &
wpid=$!
exec 3>"$tmp/stdin"   # the workload runs until this closes
await_line "$tmp/out" '^ready ' || { cat "$tmp/out" "$tmp/err"; fail "workload not ready"; exit 1; }
sock=$(awk '/^ready/ {print $3}' "$tmp/out")
[[ $sock == "$GORO_CONTROL_DIR/$wpid.sock" ]] || fail "socket path $sock, want $GORO_CONTROL_DIR/$wpid.sock"
[[ $(stat -c %a "$GORO_CONTROL_DIR") == 700 ]] || fail "directory mode $(stat -c %a "$GORO_CONTROL_DIR")"
[[ $(stat -c %a "$sock") == 600 ]] || fail "socket mode $(stat -c %a "$sock")"

# list, as text and JSON.
out=$("$gorodebug" --pid "$wpid" list) || fail "list exited $?"
grep -q '^tracecheckstackownership=0 ' <<<"$out" || fail "list: $out"
json=$("$gorodebug" --pid "$wpid" list --json) || fail "list --json exited $?"
python3 -c '
import json, sys
d = json.load(sys.stdin)
names = [s["name"] for s in d]
assert "controlsocket" in names and "tracecheckstackownership" in names, names
for s in d:
    for k in ("name", "type", "value", "default", "origin", "origin_detail", "mutability", "doc"):
        assert k in s, (k, s)
' <<<"$json" || fail "list --json is not the settings array: $json"

# A live toggle from outside, with a reason; a goroutine of the program sees it, and list
# shows the origin naming this client.
out=$("$gorodebug" --pid "$wpid" set tracecheckstackownership=1 --reason "control_tool_test") ||
  fail "set exited $?: $out"
await_line "$tmp/out" 'saw tracecheckstackownership=1 from control (pid [0-9]* uid [0-9]*) reason "control_tool_test"' ||
  fail "no goroutine saw the change: $(cat "$tmp/out")"
out=$("$gorodebug" --pid "$wpid" list) || fail "list exited $?"
grep -q "^tracecheckstackownership=1 .*from control (pid [0-9]* uid $(id -u))" <<<"$out" ||
  fail "list does not show the change from control: $(grep tracecheck <<<"$out")"

# Refusals: a startup setting (the API's message), an unknown key, a bad value, no reason.
err=$("$gorodebug" --pid "$wpid" set stackguard=off --reason x 2>&1)
[[ $? -eq 1 ]] || fail "set of a startup setting did not exit 1"
grep -q '"stackguard" is a startup setting and the runtime has started' <<<"$err" ||
  fail "startup refusal message: $err"
err=$("$gorodebug" --pid "$wpid" set tracecheckstackownershp=1 --reason x 2>&1)
[[ $? -eq 1 ]] && grep -q 'did you mean "tracecheckstackownership"' <<<"$err" || fail "unknown key: $err"
err=$("$gorodebug" --pid "$wpid" set gctrace=7 --reason x 2>&1)
[[ $? -eq 1 ]] && grep -q 'bad value for "gctrace"' <<<"$err" || fail "bad value: $err"
"$gorodebug" --pid "$wpid" set gctrace=1 >/dev/null 2>&1
[[ $? -eq 2 ]] || fail "set without --reason did not exit 2"

# stats.
out=$("$gorodebug" --pid "$wpid" stats) || fail "stats exited $?"
grep -q '^scheduler: procs=[0-9]* .*goroutines=[0-9]*' <<<"$out" || fail "stats: $out"
grep -q '^control: connections=[0-9]* refused_peers=0 ' <<<"$out" || fail "stats: $out"

# A trace capture, streamed back, that validates (the check is on during it).
"$gorotrace" capture --pid "$wpid" --duration 300ms -o "$tmp/capture.trace" 2>"$tmp/cap.err" ||
  fail "capture exited $?: $(cat "$tmp/cap.err")"
"$gorotrace" validate "$tmp/capture.trace" >/dev/null || fail "the captured trace does not validate"
ls "$tmp"/capture.trace.partial-* >/dev/null 2>&1 && fail "a partial file was left behind"

# The goroutine dump (diag/): every goroutine, main in its blocking read of stdin, the
# ring's goroutines with their file and line.
out=$("$gorodebug" --pid "$wpid" goroutines 2>"$tmp/dump.err") || fail "goroutines exited $?: $(cat "$tmp/dump.err")"
grep -q '^goroutine 1 \[syscall\]:$' <<<"$out" || fail "goroutines: main is not in its blocking call: $out"
[[ $(grep -c '^goroutine [0-9]* \[' <<<"$out") -ge 17 ]] || fail "goroutines: fewer than 17: $out"
grep -qE 'tests/control_workload.cc:[0-9]+' <<<"$out" || fail "goroutines: no file:line of the workload: $out"
grep -qE '^created by .* in goroutine 1$' <<<"$out" || fail "goroutines: no creator: $out"
# The flight recorder is off in this process: said clearly, exit 1, no output file.
err=$("$gorotrace" flight --pid "$wpid" -o "$tmp/flight.trace" 2>&1)
[[ $? -eq 1 ]] && grep -q 'flight recorder is off' <<<"$err" || fail "flight: $err"
[[ ! -e $tmp/flight.trace ]] || fail "flight left a file"

# Clean exit removes the socket.
exec 3>&-
wait "$wpid" || fail "workload exited $?: $(cat "$tmp/err")"
[[ ! -e $sock ]] || fail "socket $sock left after a clean exit"

# The process is gone: a clear error, exit 1, even with a stale socket left in place.
touch "$GORO_CONTROL_DIR/$wpid.sock"
err=$("$gorodebug" --pid "$wpid" list 2>&1)
[[ $? -eq 1 ]] && grep -q "process $wpid is not running (stale socket" <<<"$err" || fail "stale: $err"
err=$("$gorotrace" capture --pid "$wpid" --duration 1s -o "$tmp/x.trace" 2>&1)
[[ $? -eq 1 ]] && grep -q "is not running" <<<"$err" || fail "capture of a dead pid: $err"
# A live process without a socket (this shell).
err=$("$gorodebug" --pid $$ stats 2>&1)
[[ $? -eq 1 ]] && grep -q "has no control socket" <<<"$err" || fail "no socket: $err"

# A new server replaces stale sockets of dead pids in its directory.
exec 3<>"$tmp/stdin"
"$workload" 4 <"$tmp/stdin" >"$tmp/out2" 2>"$tmp/err2" 3>&- &
w2=$!
await_line "$tmp/out2" '^ready ' || fail "second workload not ready"
[[ ! -e $GORO_CONTROL_DIR/$wpid.sock ]] || fail "the stale socket of $wpid was not removed"
exec 3>&-
wait "$w2" || fail "second workload exited $?"

# controlsocket=0: no socket, no file, and the tools say so.
exec 3<>"$tmp/stdin"
GORODEBUG=strict=1,controlsocket=0 "$workload" 2 <"$tmp/stdin" >"$tmp/out3" 2>"$tmp/err3" 3>&- &
w3=$!
await_line "$tmp/out3" '^ready ' || fail "third workload not ready"
grep -q "^ready $w3 \$" "$tmp/out3" || fail "controlsocket=0 still serves: $(cat "$tmp/out3")"
[[ ! -e $GORO_CONTROL_DIR/$w3.sock ]] || fail "controlsocket=0 made a socket file"
err=$("$gorodebug" --pid "$w3" list 2>&1)
[[ $? -eq 1 ]] && grep -q "has no control socket" <<<"$err" || fail "controlsocket=0: $err"
exec 3>&-
wait "$w3" || fail "third workload exited $?"

# traceflight=1: a flight snapshot from outside that validates.
exec 3<>"$tmp/stdin"
GORODEBUG=strict=1,traceflight=1 "$workload" 4 <"$tmp/stdin" >"$tmp/out4" 2>"$tmp/err4" 3>&- &
w4=$!
await_line "$tmp/out4" '^ready ' || fail "fourth workload not ready"
"$gorotrace" flight --pid "$w4" -o "$tmp/flight.trace" 2>"$tmp/flight.err" ||
  fail "flight exited $?: $(cat "$tmp/flight.err")"
"$gorotrace" validate "$tmp/flight.trace" >/dev/null || fail "the flight snapshot does not validate"
exec 3>&-
wait "$w4" || fail "fourth workload exited $?"

if [[ $fails -ne 0 ]]; then
  echo "--- workload stdout"; cat "$tmp/out"; echo "--- workload stderr"; cat "$tmp/err"
  echo "$fails failure(s)"
  exit 1
fi
echo "PASS"

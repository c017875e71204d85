#!/usr/bin/env bash
# SIGQUIT's goroutine dump (diag/sigquit.h) on a real process: by default the dump goes to
# stderr and the process exits with status 2, as Go's does; with GORODEBUG=sigquit=continue
# it dumps and keeps running; with sigquit=off SIGQUIT keeps its default action.
set -uo pipefail
ulimit -c 0  # sigquit=off ends in a core dump; do not write one
workload=tests/sigquit_workload
tmp=${TEST_TMPDIR:-$(mktemp -d)}
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# wait_for FILE PATTERN: waits (up to 60 s; only a bug gets there) until FILE has a line
# matching PATTERN.
wait_for() {
  local i
  for ((i = 0; i < 6000; i++)); do
    grep -q -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.01
  done
  return 1
}

# start MODE: starts the workload with sigquit=MODE (empty: the default), its stdin a fifo
# held open on fd 3, and waits for "ready". Sets pid.
start() {
  local mode=$1
  rm -f "$tmp/in" "$tmp/out" "$tmp/err"
  mkfifo "$tmp/in"
  # A background job of a non-interactive shell starts with SIGQUIT ignored: `env
  # --default-signal` gives the workload the default action a program normally has.
  if [[ -n $mode ]]; then
    GORODEBUG="sigquit=$mode" env --default-signal=QUIT "$workload" <"$tmp/in" >"$tmp/out" 2>"$tmp/err" &
  else
    env --default-signal=QUIT "$workload" <"$tmp/in" >"$tmp/out" 2>"$tmp/err" &
  fi
  pid=$!
  exec 3>"$tmp/in"
  wait_for "$tmp/out" '^ready$' || fail "$mode: the workload never became ready: $(cat "$tmp/err")"
}

# The default: dump, then exit 2.
start ""
kill -QUIT "$pid"
wait "$pid"
rc=$?
exec 3>&-
[[ $rc -eq 2 ]] || fail "default: exit status $rc, want 2"
grep -q '^SIGQUIT: quit$' "$tmp/err" || fail "default: no 'SIGQUIT: quit' line: $(cat "$tmp/err")"
grep -q '^goroutine 1 \[syscall\]:$' "$tmp/err" || fail "default: main is not shown in its blocking call"
grep -qE '^goroutine [0-9]+ \[chan receive\]:$' "$tmp/err" || fail "default: no goroutine in chan receive"
grep -q 'WaitForeverOnChannel' "$tmp/err" || fail "default: the blocked function is not named"
grep -qE '^created by .* in goroutine 1$' "$tmp/err" || fail "default: no 'created by ... in goroutine 1'"

# continue: dump, keep running, then end normally at end of input.
start continue
kill -QUIT "$pid"
wait_for "$tmp/err" 'WaitForeverOnChannel' || fail "continue: no dump: $(cat "$tmp/err")"
kill -0 "$pid" 2>/dev/null || fail "continue: the process died after the dump"
kill -QUIT "$pid"  # a second dump
for ((i = 0; i < 6000; i++)); do
  [[ $(grep -c '^SIGQUIT: quit$' "$tmp/err") -ge 2 ]] && break
  sleep 0.01
done
[[ $(grep -c '^SIGQUIT: quit$' "$tmp/err") -eq 2 ]] || fail "continue: the second SIGQUIT gave no dump"
exec 3>&-
wait "$pid"
rc=$?
[[ $rc -eq 0 ]] || fail "continue: exit status $rc after end of input, want 0; stderr ends: $(tail -n 30 "$tmp/err")"

# off: SIGQUIT's default action (terminate with a core dump: status 128 + 3).
start off
kill -QUIT "$pid"
wait "$pid"
rc=$?
exec 3>&-
[[ $rc -eq 131 ]] || fail "off: exit status $rc, want 131 (killed by SIGQUIT)"
grep -q 'SIGQUIT: quit' "$tmp/err" && fail "off: a dump was printed"

if [[ $fails -gt 0 ]]; then
  echo "$fails failure(s)"
  exit 1
fi
echo "PASS"

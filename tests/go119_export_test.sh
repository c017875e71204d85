#!/usr/bin/env bash
# goro-trace export --format=go119 end to end: traces of a real workload (tests/
# go119_workload.cc) and the bad-but-readable traces of go119_edge_traces go through Go
# 1.19's own tools: `go tool trace -d`, `-pprof=net|sync|syscall|sched` read back by
# `go tool pprof -top`, and the web UI (`-http`), whose pages must all answer 200. Also
# `goro-trace pprof`, whose profiles must give the same totals as Go's tool.
# Skips (exit 0, saying so) when Go is not installed.
set -uo pipefail
tool=tools/goro-trace/goro-trace
workload=tests/go119_workload
edge=tests/go119_edge_traces
tmp=${TEST_TMPDIR:-$(mktemp -d)}
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

if ! command -v go >/dev/null 2>&1; then
  echo "SKIP: go is not installed (tools/bootstrap.sh installs Go 1.19); nothing checked"
  exit 0
fi
# Go wants a home and a build cache even to print its environment; the sandbox has neither.
export HOME="$tmp/home" GOCACHE="$tmp/gocache"
mkdir -p "$HOME"
tooldir=$(go env GOTOOLDIR) || { echo "FAIL: go env GOTOOLDIR"; exit 1; }
gotrace="$tooldir/trace"
gopprof="$tooldir/pprof"
version=$(go env GOVERSION)
[[ $version == go1.19* ]] || echo "note: testing with $version, not Go 1.19"

# check_ui FILE: starts the web UI on FILE and fetches every page named in the brief.
check_ui() {
  local file=$1 log="$tmp/ui.log" port pid i attempt
  # A random port can be taken (another test's connection, say): try another one then.
  for attempt in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 30000))
    BROWSER=true "$gotrace" -http="127.0.0.1:$port" "$file" >"$log" 2>&1 &
    pid=$!
    # Start-up parses the trace and builds the whole timeline before it listens.
    for i in $(seq 1 300); do
      grep -q 'listening on' "$log" && break
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    grep -q 'address already in use' "$log" || break
    wait "$pid" 2>/dev/null
  done
  if ! grep -q 'listening on' "$log"; then
    fail "web UI on $file did not start: $(cat "$log")"
    kill "$pid" 2>/dev/null
    return
  fi
  local base="http://127.0.0.1:$port" pages=(/goroutines /usertasks /userregions '/sched?raw=1'
    /jsontrace)
  local page
  for page in $(curl -s "$base/goroutines" | grep -o 'goroutine?id=[0-9]*' | sort -u); do
    pages+=("/$page")
  done
  for page in $(curl -s "$base/usertasks" "$base/userregions" |
    grep -o 'href="/user[a-z]*?[^"]*"' | sed 's/^href="//; s/"$//; s/&amp;/\&/g' | sort -u); do
    pages+=("$page")
  done
  local code
  for page in "${pages[@]}"; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$base$page")
    [[ $code == 200 ]] || fail "$file: GET $page answered $code"
  done
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  echo "web UI: ${#pages[@]} pages of $(basename "$file") answered"
}

# --- A real workload, on 1 and 4 Ps ---
for procs in 1 4; do
  trace="$tmp/workload$procs.trace"
  out="$tmp/workload$procs.go119"
  "$workload" "$trace" "$procs" || { fail "go119_workload $procs exited $?"; continue; }
  "$tool" validate "$trace" >/dev/null || fail "workload $procs: the goro trace is invalid"
  "$tool" export --format=go119 "$trace" -o "$out" 2>"$tmp/note" ||
    fail "export of workload $procs exited $?"
  grep -q "^goro-trace: note: Go 1.19's format has no StackShrink" "$tmp/note" ||
    fail "export printed no note: $(cat "$tmp/note")"
  [[ $(wc -l <"$tmp/note") -eq 1 ]] || fail "the note is not one line: $(cat "$tmp/note")"

  "$gotrace" -d "$out" >"$tmp/d.txt" 2>"$tmp/d.err" || fail "go tool trace -d: $(cat "$tmp/d.err")"
  for ev in GoCreate GoStart GoEnd GoBlockSelect GoBlockCond GoBlockSync GoSleep GoUnblock \
    GoSysCall GCStart GCDone GCSTWStart UserTaskCreate UserTaskEnd UserRegion UserLog; do
    grep -q " $ev " "$tmp/d.txt" || fail "workload $procs: no $ev in go tool trace -d"
  done
  grep -qE ' GoBlock(Send|Recv) ' "$tmp/d.txt" || fail "workload $procs: no channel block"
  # The 100 ms blocking call loses its P to sysmon (goro's ProcSteal): Go's GoSysBlock,
  # then GoSysExit when the call returns.
  if "$tool" stats "$trace" | grep -q 'ProcSteal'; then
    grep -q ' GoSysBlock ' "$tmp/d.txt" || fail "workload $procs: ProcSteal without GoSysBlock"
    grep -q ' GoSysExit ' "$tmp/d.txt" || fail "workload $procs: ProcSteal without GoSysExit"
  elif [[ $procs -gt 1 ]]; then
    fail "workload $procs: the blocking call kept its P (no ProcSteal in the goro trace)"
  fi

  # Profiles: readable by pprof, naming goro's and the workload's functions.
  for kind in net sync syscall sched; do
    "$gotrace" -pprof=$kind "$out" >"$tmp/$kind.pb" 2>"$tmp/$kind.err" ||
      fail "go tool trace -pprof=$kind: $(cat "$tmp/$kind.err")"
    "$gopprof" -top -nodecount=1000 -nodefraction=0 -edgefraction=0 "$tmp/$kind.pb" >"$tmp/$kind.top" 2>&1 ||
      fail "go tool pprof -top of $kind: $(cat "$tmp/$kind.top")"
  done
  grep -q 'Type: delay' "$tmp/net.top" || fail "net profile: $(cat "$tmp/net.top")"
  # Each pattern names the workload's or goro's function; optimised builds (the sanitizer
  # configs use -O1) inline some of them, so the goro function underneath also counts.
  for want in 'goro::Chan::Send|goro::runtime_internal::ChanSend' \
    'ContendOnMutex|goro::sync::Mutex::LockSlow' 'WaitOnCond|goro::sync::Cond::Wait' \
    'SelectOnTwoChannels|goro::Select'; do
    grep -qE "$want" "$tmp/sync.top" || fail "workload $procs: sync profile lacks $want"
  done
  for want in 'goro::BlockingCall|goro::runtime_internal::EnterSyscall' \
    'ReadPipeSlowly|goro::Go::'; do
    grep -qE "$want" "$tmp/syscall.top" || fail "workload $procs: syscall profile lacks $want"
  done
  grep -q 'goro::' "$tmp/sched.top" || fail "workload $procs: sched profile names no goro function"
  # File and line (symbolize/): with -lines, pprof shows each frame's file:line. The
  # workload's noinline ContendOnMutex waits on its WaitGroup (an out-of-line call in every
  # build) at a line we look up in the source.
  "$gopprof" -top -lines -nodecount=1000 -nodefraction=0 -edgefraction=0 "$tmp/sync.pb" \
    >"$tmp/sync.lines" 2>&1 || fail "go tool pprof -top -lines of sync: $(cat "$tmp/sync.lines")"
  wait_line=$(awk '/void ContendOnMutex\(/ { in_fn = 1 }
    in_fn && /inner\.Wait\(\);/ { print NR; exit }' tests/go119_workload.cc)
  [[ -n $wait_line ]] || fail "tests/go119_workload.cc: no inner.Wait() in ContendOnMutex"
  grep -qE "ContendOnMutex tests/go119_workload\.cc:$wait_line\$" "$tmp/sync.lines" ||
    fail "workload $procs: pprof -lines lacks ContendOnMutex at line $wait_line:" \
      "$(grep ContendOnMutex "$tmp/sync.lines")"
  grep -qE ' goro::[^ ]* runtime/[a-z_/]+\.(cc|h):[1-9][0-9]*$' "$tmp/sync.lines" ||
    fail "workload $procs: pprof -lines names no goro function with its file and line"
  # goro-trace's own views and the Chrome export carry the same file and line.
  "$tool" goroutines "$trace" |
    grep -qE 'ContendOnMutex\(\) tests/go119_workload\.cc:[1-9][0-9]*$' ||
    fail "workload $procs: goro-trace goroutines shows no file:line for ContendOnMutex"
  "$tool" export --format=chrome "$trace" -o "$tmp/chrome.json" ||
    fail "chrome export of workload $procs exited $?"
  grep -qE 'ContendOnMutex\(\) tests/go119_workload\.cc:[1-9][0-9]* \(pc 0x' "$tmp/chrome.json" ||
    fail "workload $procs: the Chrome export shows no file:line for ContendOnMutex"

  # goro-trace pprof, straight from the goro trace: the same totals as Go's tool computes
  # from the export, and the workload's functions by name.
  for kind in sync syscall sched block; do
    "$tool" pprof --kind=$kind "$trace" -o "$tmp/goro_$kind.pb.gz" 2>"$tmp/pp.err" ||
      fail "goro-trace pprof --kind=$kind: $(cat "$tmp/pp.err")"
    "$gopprof" -top -nodecount=1000 -nodefraction=0 -edgefraction=0 "$tmp/goro_$kind.pb.gz" \
      >"$tmp/goro_$kind.top" 2>&1 || fail "go tool pprof -top of goro's $kind: $(cat "$tmp/goro_$kind.top")"
    grep -q 'Type: delay' "$tmp/goro_$kind.top" || fail "goro's $kind profile: $(cat "$tmp/goro_$kind.top")"
  done
  # (Not syscall: the export turns blocking calls that kept their P into instants, which
  # goro-trace pprof still counts in full.)
  for kind in sync sched; do
    want=$(grep -oE 'of [0-9.]+[a-zµ]+ total' "$tmp/$kind.top")
    got=$(grep -oE 'of [0-9.]+[a-zµ]+ total' "$tmp/goro_$kind.top")
    [[ -n $want && $want == "$got" ]] ||
      fail "workload $procs: goro-trace pprof --kind=$kind total '$got', go tool trace's '$want'"
  done
  grep -qE 'SelectOnTwoChannels|goro::Select' "$tmp/goro_sync.top" ||
    fail "workload $procs: goro's sync profile lacks the select"
  grep -qE 'ReadPipeSlowly|goro::BlockingCall' "$tmp/goro_syscall.top" ||
    fail "workload $procs: goro's syscall profile lacks the blocking call"
  grep -q 'goro::Sleep' "$tmp/goro_block.top" || fail "workload $procs: the block profile lacks Sleep"

  check_ui "$out"
done

# --- Traces that break Go 1.19's invariants if copied naively (go119_edge_traces) ---
mkdir -p "$tmp/edge"
"$edge" "$tmp/edge" || fail "go119_edge_traces exited $?"
n=0
for trace in "$tmp"/edge/*.trace; do
  n=$((n + 1))
  out="${trace%.trace}.go119"
  "$tool" export --format=go119 "$trace" -o "$out" 2>/dev/null ||
    { fail "export of $(basename "$trace") exited $?"; continue; }
  "$gotrace" -d "$out" >/dev/null 2>"$tmp/d.err" ||
    fail "$(basename "$trace"): go tool trace -d: $(cat "$tmp/d.err")"
  for kind in net sync syscall sched; do
    "$gotrace" -pprof=$kind "$out" >"$tmp/p.pb" 2>"$tmp/p.err" ||
      fail "$(basename "$trace"): -pprof=$kind: $(cat "$tmp/p.err")"
  done
  check_ui "$out"
done
[[ $n -ge 5 ]] || fail "only $n edge traces"

[[ $fails -eq 0 ]] && echo "PASS"
exit $fails

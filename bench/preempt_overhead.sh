#!/usr/bin/env bash
# What preemption costs when nothing is preempted: instructions per yield and per ping-pong
# round trip (untraced) of this checkout against a base commit (default: the last commit
# before asynchronous preemption), counted by valgrind's callgrind on --config=opt builds
# of //bench:trace_benchmark. Each count is (--reps=3 minus --reps=1) / the operations of
# two repetitions, so start-up cancels. Instruction counts do not depend on the machine's
# load, unlike wall-clock ratios at the 2% level.
#
# Only the thread that runs the goroutines is counted (the benchmark uses one P; callgrind
# --separate-threads): background threads work per unit of wall-clock time (sysmon ticks
# every 2 ms while a P is busy), and under valgrind an operation takes about 50 times
# longer than natively, so their share per operation would be counted about 50 times over.
# Both builds run with GORODEBUG=asyncpreemptoff=1: the preemption code is compiled in and
# idle (no signal is sent; callgrind itself cannot follow a handler that switches stacks).
# The base commit ignores the unknown setting.
#
#   bash bench/preempt_overhead.sh [BASE_COMMIT]
set -euo pipefail
cd "$(dirname "$0")/.."
base="${1:-3646918}"
work="$(mktemp -d)"
trap 'git worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

git worktree add --detach "$work/base" "$base" >/dev/null 2>&1
build() {  # build DIR NAME
  (cd "$1" && bazel build --config=opt //bench:trace_benchmark >/dev/null 2>&1) ||
    { echo "preempt_overhead: build failed in $1" >&2; exit 1; }
  cp "$1/bazel-bin/bench/trace_benchmark" "$work/$2"
}
build "$work/base" base
build . head

instructions() {  # instructions BINARY REPS CASE: the first thread's instructions
  local out="$work/cg.$$.$RANDOM"
  GORODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --separate-threads=yes \
    --callgrind-out-file="$out" "$1" --reps="$2" --only="$3" >/dev/null 2>&1
  awk '/^summary:/ { print $2; exit }' "$out-01"
  rm -f "$out"*
}

per_op() {  # per_op BINARY CASE OPS_PER_REP
  local one three
  one="$(instructions "$1" 1 "$2")"
  three="$(instructions "$1" 3 "$2")"
  awk -v a="$three" -v b="$one" -v n="$3" 'BEGIN { printf "%.1f", (a - b) / (2 * n) }'
}

for c in "BM_Trace_PingPong/untraced 100000 round_trip" "BM_Trace_Yield/untraced 400000 yield"; do
  set -- $c
  b="$(per_op "$work/base" "$1" "$2")"
  h="$(per_op "$work/head" "$1" "$2")"
  printf '%s\tinstructions_per_%s\tbase %s (%s)\thead %s\tratio %s\n' "$1" "$3" "$b" "$base" "$h" \
    "$(awk -v a="$h" -v b="$b" 'BEGIN { printf "%.4f", a / b }')"
done

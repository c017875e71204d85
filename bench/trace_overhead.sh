#!/usr/bin/env bash
# The tracer's cost when it is compiled in but off: builds //bench:trace_benchmark twice
# (--config=opt, and --config=opt --config=notrace where every trace site is dead code),
# then runs the two binaries alternately ROUNDS times on the untraced yield and ping-pong
# cases and prints, per round, the ratio of the two medians (on / compiled out), and the
# median of those ratios. Alternating keeps the machine's drift out of the ratio.
#
#   bash bench/trace_overhead.sh [ROUNDS]     (default 6 rounds of --reps=7)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-6}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

build() {  # build CONFIG... -> copies the binary to $work/$name
  local name="$1"
  shift
  bazel build -c opt "$@" //bench:trace_benchmark >/dev/null 2>&1 ||
    { echo "trace_overhead: build failed: bazel build $* //bench:trace_benchmark" >&2; exit 1; }
  cp "$(bazel info -c opt "$@" bazel-bin 2>/dev/null)/bench/trace_benchmark" "$work/$name"
}
build off --config=opt
build compiled_out --config=opt --config=notrace

median_of() {  # median_of FILE NAME METRIC
  awk -F'\t' -v n="$2" -v m="$3" '$1 == n && $2 == m { print $3 }' "$1"
}

ratios_pp=()
ratios_y=()
for ((r = 1; r <= rounds; r++)); do
  for variant in off compiled_out; do
    "$work/$variant" --reps=7 --only=untraced >"$work/$variant.$r.out"
  done
  pp_on="$(median_of "$work/off.$r.out" BM_Trace_PingPong/untraced round_trip_median)"
  pp_out="$(median_of "$work/compiled_out.$r.out" BM_Trace_PingPong/untraced round_trip_median)"
  y_on="$(median_of "$work/off.$r.out" BM_Trace_Yield/untraced yield_median)"
  y_out="$(median_of "$work/compiled_out.$r.out" BM_Trace_Yield/untraced yield_median)"
  rp="$(awk -v a="$pp_on" -v b="$pp_out" 'BEGIN { printf "%.4f", a / b }')"
  ry="$(awk -v a="$y_on" -v b="$y_out" 'BEGIN { printf "%.4f", a / b }')"
  ratios_pp+=("$rp")
  ratios_y+=("$ry")
  printf 'round %d: ping-pong %s / %s ns = %s; yield %s / %s ns = %s\n' \
    "$r" "$pp_on" "$pp_out" "$rp" "$y_on" "$y_out" "$ry"
done
med() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
printf 'BM_Trace_OffVsCompiledOut/pingpong\tratio_median\t%s\tx\n' "$(med "${ratios_pp[@]}")"
printf 'BM_Trace_OffVsCompiledOut/yield\tratio_median\t%s\tx\n' "$(med "${ratios_y[@]}")"

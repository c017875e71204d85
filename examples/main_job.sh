#!/usr/bin/env bash
# The README's main job: runs the demo (examples/demo.cc) with the execution tracer on and
# the stack-ownership check on (and gctrace=1: a line per collection), then validates the trace and prints its statistics with
# goro-trace. The trace is kept at $GORO_MAIN_JOB_TRACE (default: a file under
# ${TMPDIR:-/tmp}); GORODEBUG settings given by the caller are kept and extended.
#
#   bazel run //examples:main_job
set -euo pipefail

runfiles="${RUNFILES_DIR:-$0.runfiles}"
demo="$runfiles/goro/examples/demo"
goro_trace="$runfiles/goro/tools/goro-trace/goro-trace"
for tool in "$demo" "$goro_trace"; do
  [[ -x "$tool" ]] || { echo "main_job: missing $tool (run through bazel run)" >&2; exit 1; }
done

trace="${GORO_MAIN_JOB_TRACE:-${TMPDIR:-/tmp}/goro-demo.trace}"
debug="gctrace=1,tracecheckstackownership=1"
[[ -n "${GORODEBUG:-}" ]] && debug="$GORODEBUG,$debug"

echo "== demo, traced to $trace (GORODEBUG=$debug)"
GOROTRACE="$trace" GORODEBUG="$debug" "$demo"
echo
echo "== goro-trace validate $trace"
"$goro_trace" validate "$trace"
echo
echo "== goro-trace stats $trace (first 20 goroutines; the tool itself lists them all)"
"$goro_trace" stats "$trace" | awk '
  /^Goroutines:/ { in_table = 1; rows = -1; print; next }
  in_table && /^$/ {
    if (rows > 20) printf "  ... and %d more goroutines\n", rows - 20
    in_table = 0
  }
  in_table { if (++rows <= 20) print; next }
  { print }'

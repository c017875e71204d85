#!/usr/bin/env bash
# End-to-end checks of goro-trace: validate (ok, corrupt, missing file), stats, goroutines
# (grouped by name) with and without --match, export --format=chrome, and bad usage (exit 2).
set -uo pipefail
tool=tools/goro-trace/goro-trace
trace=tests/fuzz/corpus/trace_reader/valid_two_generations
tmp=${TEST_TMPDIR:-$(mktemp -d)}
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

out=$("$tool" validate "$trace") || fail "validate of a valid trace exited $?"
[[ $out == "ok: 2 generations, 22 events" ]] || fail "validate printed: $out"

# A cut copy: the last 7 bytes cut off (inside the last batch). The first generation is
# salvaged: exit 3, the cut's offset and generation on stderr, the salvaged part on stdout.
size=$(wc -c <"$trace")
head -c $((size - 7)) "$trace" >"$tmp/cut"
out=$("$tool" validate "$tmp/cut" 2>"$tmp/err")
rc=$?
err=$(cat "$tmp/err")
[[ $rc -eq 3 ]] || fail "validate of a truncated trace exited $rc, want 3 (salvaged)"
[[ $out == "ok: 1 generations, "* ]] || fail "validate of the cut trace printed: $out"
grep -q "salvaged 1 complete generation (bytes 0-[0-9]* of $((size - 7))); cut at offset [0-9]* in generation 2, [0-9]* bytes not used: offset [0-9]*: truncated" <<<"$err" ||
  fail "no salvage note in: $err"
out=$("$tool" stats "$tmp/cut" 2>/dev/null)
[[ $? -eq 3 ]] || fail "stats of the cut trace should exit 3"
grep -q '^1 generations' <<<"$out" || fail "stats of the cut trace: $out"
# Cut inside the first generation: nothing complete, an error (exit 1).
head -c 40 "$trace" >"$tmp/cut1"
out=$("$tool" validate "$tmp/cut1" 2>&1)
rc=$?
[[ $rc -eq 1 ]] || fail "validate of a trace cut in its first generation exited $rc, want 1"
grep -q 'offset [0-9]*: truncated' <<<"$out" || fail "no offset in: $out"

# A wrong version.
{ printf 'goro-trace\x07\x00\x00\x00\x00\x00'; } >"$tmp/v7"
out=$("$tool" validate "$tmp/v7" 2>&1)
[[ $? -eq 1 ]] || fail "validate of a version 7 file should exit 1"
grep -q 'offset 10: unsupported trace version 7; this reader understands version 1' <<<"$out" ||
  fail "version error: $out"

"$tool" validate "$tmp/does-not-exist" 2>/dev/null
[[ $? -eq 1 ]] || fail "validate of a missing file should exit 1"

out=$("$tool" stats "$trace") || fail "stats exited $?"
for want in 'GoStart  *3' 'p50 200ns, p99 900ns' 'GC cycles: 1, total 210ns' \
  'STW pauses: 1, total 100ns, max 100ns' 'chan receive 300ns'; do
  grep -q "$want" <<<"$out" || fail "stats output lacks '$want': $out"
done

out=$("$tool" goroutines "$trace") || fail "goroutines exited $?"
[[ $(grep -c '^g' <<<"$out") -eq 3 ]] || fail "want 3 goroutines: $out"
grep -q '^g17 start=main.worker' <<<"$out" || fail "g17 line: $out"
# Grouped by name: where each goroutine came from (g17 from main.main, g1 is main).
grep -q '^\[main.main.func1\] 1 goroutine$' <<<"$out" || fail "no group of g17: $out"
grep -q '^\[main\] 1 goroutine$' <<<"$out" || fail "no group of g1: $out"
out=$("$tool" stats "$trace") || fail "stats exited $?"
grep -q 'Goroutines by name (3 groups)' <<<"$out" || fail "stats lacks the groups: $out"
grep -qE '^ +1 .* main\.main\.func1$' <<<"$out" || fail "stats lacks main.main.func1: $out"
out=$("$tool" goroutines "$trace" --match 'work(er)?$') || fail "goroutines --match exited $?"
[[ $(grep -c '^g' <<<"$out") -eq 1 ]] || fail "--match should keep g17 only: $out"
"$tool" goroutines "$trace" --match '(' >/dev/null 2>&1
[[ $? -eq 2 ]] || fail "a bad regular expression should exit 2"

"$tool" export --format=chrome "$trace" -o "$tmp/out.json" || fail "export exited $?"
grep -q '"traceEvents"' "$tmp/out.json" || fail "export lacks traceEvents"
if command -v python3 >/dev/null; then
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["traceEvents"]) > 10' \
    "$tmp/out.json" || fail "export is not valid JSON"
fi
"$tool" export --format=chrome "$tmp/cut" -o "$tmp/cut.json" 2>"$tmp/err"
[[ $? -eq 3 ]] || fail "export of a cut trace should exit 3 (salvaged)"
grep -q 'salvaged 1 complete generation' "$tmp/err" || fail "export's salvage note: $(cat "$tmp/err")"
grep -q '"traceEvents"' "$tmp/cut.json" || fail "export of the cut trace lacks traceEvents"
"$tool" export --format=go119 "$tmp/cut" -o "$tmp/cut.go119" 2>"$tmp/err"
[[ $? -eq 3 ]] || fail "go119 export of a cut trace should exit 3 (salvaged)"
[[ -s "$tmp/cut.go119" ]] || fail "go119 export of the cut trace is empty"
"$tool" export --format=chrome "$tmp/cut1" -o "$tmp/bad.json" 2>/dev/null
[[ $? -eq 1 ]] || fail "export of a trace with no complete generation should exit 1"

for args in "" "frobnicate" "validate" "validate a b" "export $trace" \
  "export --format=chrome $trace" "goroutines $trace --match"; do
  # shellcheck disable=SC2086  # split on purpose
  "$tool" $args >/dev/null 2>&1
  rc=$?
  [[ $rc -eq 2 ]] || fail "'goro-trace $args' exited $rc, want 2"
done
"$tool" export --format=svg "$trace" -o "$tmp/x" 2>/dev/null
[[ $? -eq 2 ]] || fail "an unknown export format should exit 2"

[[ $fails -eq 0 ]] && echo "PASS"
exit $fails

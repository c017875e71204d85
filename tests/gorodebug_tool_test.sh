#!/usr/bin/env bash
# End-to-end checks of the gorodebug tool: list, list --json, check (argument and $GORODEBUG).
set -uo pipefail
tool=tools/gorodebug/gorodebug
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

out=$(env -u GORODEBUG "$tool" list) || fail "list exited $?"
for name in gctrace schedtrace stackguard strict tracecheckstackownership; do
  grep -q "^$name=" <<<"$out" || fail "list does not show $name"
done

json=$(GORODEBUG=schedtrace=250 "$tool" list --json) || fail "list --json exited $?"
grep -q '"name": "schedtrace", "type": "[^"]*", "value": "250ms", "default": "0", "origin": "env"' \
  <<<"$json" || fail "list --json does not show schedtrace=250ms from env: $json"
if command -v python3 >/dev/null; then
  python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d) >= 8' <<<"$json" ||
    fail "list --json is not valid JSON"
fi

"$tool" check 'schedtrace=100,gctrace=1' >/dev/null || fail "check rejected a valid string"

out=$("$tool" check 'schedtrce=1,,gctrace=9')
rc=$?
[[ $rc -eq 1 ]] || fail "check of a bad string exited $rc, want 1"
[[ $(wc -l <<<"$out") -eq 3 ]] || fail "want one line per problem (3), got: $out"
grep -q 'did you mean "schedtrace"' <<<"$out" || fail "no did-you-mean hint: $out"
grep -q 'want a base-10 integer in \[0, 2\]' <<<"$out" || fail "no expected form: $out"

GORODEBUG='stackguard=sometimes' "$tool" check >/dev/null
[[ $? -eq 1 ]] || fail "check without argument did not check \$GORODEBUG"
GORODEBUG='stackguard=off' "$tool" check >/dev/null || fail "valid \$GORODEBUG rejected"

"$tool" frobnicate 2>/dev/null
[[ $? -eq 2 ]] || fail "unknown command should exit 2"

[[ $fails -eq 0 ]] && echo "PASS"
exit $fails

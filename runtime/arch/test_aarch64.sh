#!/bin/bash
# Cross-compiles the AArch64 context switch with a small smoke test and runs it under
# qemu-user. Needs Debian's g++-aarch64-linux-gnu and qemu-user. Run from anywhere.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

for tool in aarch64-linux-gnu-g++ qemu-aarch64; do
  if ! command -v "$tool" >/dev/null; then
    echo "test_aarch64.sh: $tool not found (apt-get install -y g++-aarch64-linux-gnu qemu-user)" >&2
    exit 2
  fi
done

# Abseil's headers (header-only parts used by base/fatal.h) come from the host's /usr/include,
# searched after the cross toolchain's own headers.
cxx=(aarch64-linux-gnu-g++ -std=c++20 -O1 -g -fno-omit-frame-pointer -Wall -Wextra -Werror
     -Wno-unused-parameter -I"$root" -idirafter /usr/include -pthread)

"${cxx[@]}" -static -o "$out/smoke" \
  "$root/runtime/arch/aarch64_switch_smoke.cc" \
  "$root/runtime/arch/context_switch.cc" \
  "$root/runtime/arch/trampoline_aarch64.cc" \
  "$root/runtime/arch/swap_aarch64.S" \
  "$root/base/fatal.cc"

qemu-aarch64 "$out/smoke"

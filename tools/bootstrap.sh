#!/usr/bin/env bash
# Installs the Debian packages goro needs when any is missing: Bazel 4.2.3 and its platform
# definitions, the system libraries (with elfutils' libdw for symbolize/), clang for the fuzzers, the benchmark peers, and an
# AArch64 cross compiler with qemu-user for the AArch64 context switch.
# Idempotent: quiet and fast (one dpkg query) when everything is present.
set -euo pipefail

packages=(
  bazel-bootstrap bazel-platforms          # the build (offline Bazel 4.2.3)
  g++ pkg-config python3                   # compiler; pkg-config for the fuzz script; bench/compare.py
  libabsl-dev libre2-dev                   # Abseil 20220623, RE2
  nlohmann-json3-dev                       # JSON for the control socket (control/)
  libgtest-dev libgmock-dev libbenchmark-dev
  protobuf-compiler libprotobuf-dev zlib1g-dev   # goro-trace pprof: profile.proto, gzip
  libdw-dev                                # elfutils' libdw: file and line for stacks (symbolize/)
  clang libclang-rt-14-dev                 # libFuzzer targets (tests/fuzz)
  golang-go libboost-fiber-dev libboost-context-dev   # benchmark peers (bench/)
  g++-aarch64-linux-gnu qemu-user          # the AArch64 context switch under emulation
)

# One dpkg query for all packages; anything not reported "install ok installed" is missing.
installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${packages[@]}" 2>/dev/null |
  awk '$2 == "install" && $3 == "ok" && $4 == "installed" { print $1 }' || true)
missing=()
for p in "${packages[@]}"; do
  grep -qx -- "$p" <<<"$installed" || missing+=("$p")
done

if ((${#missing[@]} > 0)); then
  echo "bootstrap: installing ${missing[*]}" >&2
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

#!/usr/bin/env bash
# Builds a goro libFuzzer target with clang and runs it for a bounded time.
#
#   tests/fuzz/run_fuzzer.sh NAME SECONDS      e.g. tests/fuzz/run_fuzzer.sh debugvars 60
#
# NAME selects tests/fuzz/NAME_fuzzer.cc and the seed corpus tests/fuzz/corpus/NAME/. The
# binary, a working copy of the corpus (which the run grows; the checked-in seeds are never
# touched) and any crash artifacts go to $GORO_FUZZ_DIR (default: .fuzz/NAME at the
# repository root, which .gitignore lists). Exits non-zero when the fuzzer finds a crash or
# an invariant failure, or when the build fails.
set -euo pipefail

if [[ $# -ne 2 || ! $2 =~ ^[0-9]+$ ]]; then
  echo "usage: $0 NAME SECONDS" >&2
  exit 2
fi
name=$1
seconds=$2
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=${GORO_FUZZ_DIR:-$repo/.fuzz/$name}
cxx=${CXX_FUZZ:-clang++}

# The goro sources each target links, listed explicitly, the headers whose changes force a
# rebuild (globs, relative to the repository), and the pkg-config packages they use.
case $name in
  debugvars)
    srcs=(
      tests/fuzz/debugvars_fuzzer.cc
      debugvars/build_default.cc
      debugvars/environment.cc
      debugvars/flag.cc
      debugvars/origin.cc
      debugvars/parser.cc
      debugvars/registry.cc
      debugvars/render.cc
      debugvars/setting.cc
      base/fatal.cc
      base/lock_rank.cc
    )
    hdr_globs='debugvars/*.h base/*.h tests/fuzz/*.h'
    pkgs=(absl_flags absl_flags_reflection absl_status absl_strings absl_str_format
          absl_time absl_raw_hash_set absl_hash re2)
    ;;
  trace_reader)
    srcs=(
      tests/fuzz/trace_reader_fuzzer.cc
      tracer/format.cc
      tracer/reader/analysis.cc
      tracer/reader/goroutine_name.cc
      tracer/reader/reader.cc
      tracer/reader/state_machine.cc
      tracer/reader/validator.cc
      tools/goro-trace/chrome_export.cc
    )
    hdr_globs='tracer/*.h tracer/reader/*.h tools/goro-trace/*.h tests/fuzz/*.h'
    pkgs=(absl_status absl_statusor absl_strings absl_str_format absl_raw_hash_set absl_hash)
    ;;
  control_request)
    srcs=(
      tests/fuzz/control_request_fuzzer.cc
      control/frame.cc
      control/reply.cc
      control/request.cc
    )
    hdr_globs='control/*.h tests/fuzz/*.h'
    pkgs=(absl_status absl_statusor absl_strings absl_str_format absl_time)
    ;;
  *)
    echo "$0: unknown fuzz target '$name'" >&2
    exit 2
    ;;
esac

corpus_seed=$repo/tests/fuzz/corpus/$name
mkdir -p "$out/corpus" "$out/artifacts"
bin=$out/${name}_fuzzer

# Rebuild only when a source or header is newer than the binary.
stale=1
if [[ -x $bin ]]; then
  stale=0
  # shellcheck disable=SC2086  # the header globs expand inside $repo
  while IFS= read -r f; do
    if [[ $f -nt $bin ]]; then stale=1; break; fi
  done < <(cd "$repo" && printf '%s\n' "${srcs[@]}" $hdr_globs "$0")
fi
if [[ $stale == 1 ]]; then
  echo "run_fuzzer: building $bin with $cxx" >&2
  # One compiler per source, as many at once as there are CPUs (a single clang++ over every
  # source would use one), then one link. Line tables only (-g1) keep crash reports readable.
  objdir=$out/obj
  rm -rf "$objdir"
  mkdir -p "$objdir"
  cflags=(-std=c++20 -g1 -O1 -fno-omit-frame-pointer
          -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
          -Wall -Wextra -Wno-unused-parameter -Werror -I.)
  # shellcheck disable=SC2207  # pkg-config output is a list of flags
  pkg_cflags=($(pkg-config --cflags "${pkgs[@]}"))
  export cxx objdir
  (cd "$repo" && printf '%s\n' "${srcs[@]}" |
    xargs -P "$(nproc)" -I{} sh -c '"$0" "$@" -c "{}" -o "$objdir/$(echo "{}" | tr / _).o"' \
      "$cxx" "${cflags[@]}" "${pkg_cflags[@]}")
  # shellcheck disable=SC2046  # pkg-config output is a list of flags
  "$cxx" -fsanitize=fuzzer,address,undefined "$objdir"/*.o \
    $(pkg-config --libs "${pkgs[@]}") -o "$bin"
fi

cp -n "$corpus_seed"/* "$out/corpus/" 2>/dev/null || true
echo "run_fuzzer: $bin for ${seconds}s on $out/corpus (seeds: $corpus_seed)" >&2
# The working corpus comes first so new inputs land there, never in the seed directory.
exec "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$out/artifacts/" "$out/corpus"

#!/usr/bin/env python3
"""Runs goro's peer benchmarks (goro, Go, Boost.Fiber) one after another and prints one table
of medians and goro/peer ratios. Standard library only; see bench/README.md.
"""

import argparse
import datetime
import glob
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOOST_TARGET = "//bench/boost:boost_peer_bench"
GORO_TARGET = "//bench:goro_peer_bench"
IMPLS = ("goro", "go", "boost")  # column order; goro is compared against the other two
HIGHER_IS_BETTER_UNITS = {"x"}


def log(msg):
    print(f"compare: {msg}", file=sys.stderr, flush=True)


def bazel(args, startup, check=True, quiet=False):
    cmd = ["bazel", *startup, *args]
    log(" ".join(cmd))
    out = subprocess.DEVNULL if quiet else None
    proc = subprocess.run(cmd, cwd=REPO, stdout=subprocess.PIPE if not quiet else out,
                          stderr=out, text=True)
    if check and proc.returncode != 0:
        sys.exit(f"compare: `{' '.join(cmd)}` failed ({proc.returncode})")
    return proc


def bazel_binary(label, startup):
    """Path of an already built --config=opt binary."""
    bin_dir = bazel(["info", "--config=opt", "bazel-bin"], startup).stdout.strip()
    package, name = label[2:].split(":")
    path = os.path.join(bin_dir, package, name)
    if not os.access(path, os.X_OK):
        sys.exit(f"compare: built {label} but found no executable at {path}")
    return path


def build_go(tmpdir):
    go = shutil.which("go")
    if go is None:
        log("`go` not found (Debian package golang-go): the go column will be n/a")
        return None
    env = dict(os.environ, GO111MODULE="on", GOFLAGS="", GOPROXY="off",
               GOTOOLCHAIN="local", CGO_ENABLED="0")
    if not env.get("GOCACHE") and not env.get("HOME") and not env.get("XDG_CACHE_HOME"):
        env["GOCACHE"] = os.path.join(tmpdir, "gocache")
    out = os.path.join(tmpdir, "go_peer_bench")
    cmd = [go, "build", "-o", out, "."]
    log(" ".join(cmd) + "   (in bench/go)")
    subprocess.run(cmd, cwd=os.path.join(REPO, "bench", "go"), env=env, check=True)
    return out


def run_impl(impl, cmd):
    """Runs one implementation; returns {(name, metric): (unit, [values])} and comments."""
    log(f"running {impl}: {' '.join(cmd)}")
    start = time.monotonic()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    log(f"{impl} took {time.monotonic() - start:.1f} s")
    if proc.returncode != 0:
        log(f"{impl} exited {proc.returncode}; keeping the lines it printed")
    results, comments = {}, []
    for line in proc.stdout.splitlines():
        if not line.strip():
            continue
        if line.startswith("#"):
            comments.append(line[1:].strip())
            continue
        fields = line.split("\t")
        if len(fields) != 4:
            log(f"{impl}: ignoring malformed line {line!r}")
            continue
        name, metric, value, unit = fields
        try:
            number = float(value)
        except ValueError:
            log(f"{impl}: ignoring non-numeric value in {line!r}")
            continue
        entry = results.setdefault((name, metric), (unit, []))
        if entry[0] != unit:
            log(f"{impl}: unit {unit!r} differs from {entry[0]!r} for {name} {metric}")
            continue
        entry[1].append(number)
    return results, comments, proc.stdout


def fmt_value(v):
    if v is None:
        return "n/a"
    if v == int(v) and abs(v) < 1e6:
        return str(int(v))
    if v != 0 and (abs(v) >= 1e6 or abs(v) < 1e-2):
        return f"{v:.3g}"
    if abs(v) >= 100:
        return f"{v:.0f}"
    return f"{v:.3g}" if abs(v) < 10 else f"{v:.1f}"


def fmt_ratio(a, b):
    if a is None or b is None or b == 0:
        return "n/a"
    return f"{a / b:.2f}"


def print_table(per_impl):
    keys = []
    for impl in ("go", "boost", "goro"):
        for key in per_impl.get(impl, {}):
            if key not in keys:
                keys.append(key)
    header = ["case", "metric", "unit", "goro", "go", "boost",
              "goro/go", "goro/boost", "goro/best peer"]
    rows = []
    for name, metric in keys:
        unit, medians, counts = None, {}, {}
        for impl in IMPLS:
            entry = per_impl.get(impl, {}).get((name, metric))
            if entry is None:
                medians[impl] = None
                continue
            unit = unit or entry[0]
            if entry[0] != unit:
                log(f"{impl}: unit {entry[0]!r} != {unit!r} for {name} {metric}; skipped")
                medians[impl] = None
                continue
            medians[impl] = statistics.median(entry[1])
            counts[impl] = len(entry[1])
        peers = [medians[p] for p in ("go", "boost") if medians[p] is not None]
        best = None
        if peers:
            best = max(peers) if unit in HIGHER_IS_BETTER_UNITS else min(peers)
        cells = [f"`{name}`", metric, unit]
        for impl in IMPLS:
            cell = fmt_value(medians[impl])
            if medians[impl] is not None and counts[impl] > 1:
                cell += f" ({counts[impl]})"
            cells.append(cell)
        cells += [fmt_ratio(medians["goro"], medians["go"]),
                  fmt_ratio(medians["goro"], medians["boost"]),
                  fmt_ratio(medians["goro"], best)]
        rows.append(cells)
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join(["---"] * 3 + ["---:"] * 6) + "|")
    for cells in rows:
        print("| " + " | ".join(cells) + " |")
    print()
    print("Medians, repetitions in parentheses. Ratios are goro / peer: below 1 means goro is "
          "cheaper, except for unit `x` (speedup), where above 1 means goro scales better. "
          "`best peer` is the cheaper (or, for `x`, higher) of Go and Boost.")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=5,
                        help="repetitions per case (spawn cases: min(reps, 3)); default 5")
    parser.add_argument("--spawn-n", type=int, default=100_000,
                        help="goroutines in the spawn cases; default 100000")
    parser.add_argument("--full", action="store_true",
                        help="use 1,000,000 goroutines in the spawn cases (several minutes)")
    parser.add_argument("--output-base", metavar="DIR",
                        help="bazel --output_base, to keep off a busy shared Bazel server")
    parser.add_argument("--raw", metavar="FILE", help="also write every raw line to FILE")
    parser.add_argument("--no-build", action="store_true",
                        help="reuse the binaries built by a previous run")
    args = parser.parse_args()
    spawn_n = 1_000_000 if args.full else args.spawn_n
    startup = [f"--output_base={args.output_base}"] if args.output_base else []

    started = time.monotonic()
    tmpdir = tempfile.mkdtemp(prefix="goro-compare-")
    try:
        # Build (before any measurement, so compiling never overlaps a run).
        if not args.no_build:
            bazel(["build", "--config=opt", BOOST_TARGET], startup)
        have_goro = bazel(["query", GORO_TARGET], startup, check=False,
                          quiet=True).returncode == 0
        if have_goro and not args.no_build:
            if bazel(["build", "--config=opt", GORO_TARGET], startup,
                     check=False).returncode != 0:
                log(f"{GORO_TARGET} failed to build: the goro column will be n/a")
                have_goro = False
        if not have_goro:
            log(f"{GORO_TARGET} does not exist yet: the goro column will be n/a")
        commands = {}
        if have_goro:
            commands["goro"] = [bazel_binary(GORO_TARGET, startup)]
        go_binary = build_go(tmpdir)
        if go_binary:
            commands["go"] = [go_binary]
        commands["boost"] = [bazel_binary(BOOST_TARGET, startup)]
        flags = {"goro": ["--reps={r}", "--spawn_n={n}"],
                 "go": ["-reps={r}", "-spawn_n={n}"],
                 "boost": ["--reps={r}", "--spawn_n={n}"]}

        load_before = os.getloadavg()
        per_impl, raw = {}, []
        for impl in IMPLS:  # sequentially, never two at once
            if impl not in commands:
                continue
            cmd = commands[impl] + [f.format(r=args.reps, n=spawn_n) for f in flags[impl]]
            results, comments, stdout = run_impl(impl, cmd)
            per_impl[impl] = results
            raw.append(f"## {impl}\n{stdout}")
            for c in comments:
                print(f"<!-- {impl}: {c} -->", flush=True)
            if args.raw:
                # After every implementation, so a later one that is killed (1M Boost fibers
                # can exhaust memory) does not lose the lines already measured.
                with open(args.raw, "w", encoding="utf-8") as f:
                    f.write("".join(raw))
        load_after = os.getloadavg()

        print(f"<!-- {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}, "
              f"{os.cpu_count()} CPUs, load average {load_before[0]:.1f} before / "
              f"{load_after[0]:.1f} after, reps={args.reps} spawn_n={spawn_n}, "
              f"{time.monotonic() - started:.0f} s in all -->")
        print()
        print_table(per_impl)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    main()

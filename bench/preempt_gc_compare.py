#!/usr/bin/env python3
"""Runs bench/preempt_gc_benchmark.cc (goro) and bench/go/gcpause (Go) one after the other
and prints their medians side by side with goro/Go ratios (ratios only compare figures
taken in the same run). Prints the machine facts first: load, kernel, clocksource.

    python3 bench/preempt_gc_compare.py [--reps 7] [--max_n 1000000] [--only SUBSTRING]
"""

import argparse
import os
import platform
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, cwd):
    out = subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.PIPE, text=True).stdout
    values = {}
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) != 4 or line.startswith("#"):
            continue
        values[(parts[0], parts[1])] = (float(parts[2]), parts[3])
    return values


def machine_facts():
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    try:
        with open("/sys/devices/system/clocksource/clocksource0/current_clocksource") as f:
            clock = f.read().strip()
    except OSError:
        clock = "unknown"
    return f"load {load}, kernel {platform.release()}, clocksource {clock}, {os.cpu_count()} CPUs"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--max_n", type=int, default=1000000)
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    flags = [f"--reps={args.reps}", f"--max_n={args.max_n}"]
    if args.only:
        flags.append(f"--only={args.only}")
    subprocess.run(["bazel", "build", "--config=opt", "//bench:preempt_gc_benchmark"], cwd=ROOT,
                   check=True)
    env_go = dict(os.environ, GOPROXY="off", GOFLAGS="-mod=mod")
    subprocess.run(["go", "build", "-o", "/tmp/goro_gcpause", "./gcpause"],
                   cwd=os.path.join(ROOT, "bench", "go"), check=True, env=env_go)
    print("# before:", machine_facts())
    goro = run([os.path.join(ROOT, "bazel-bin", "bench", "preempt_gc_benchmark")] + flags, ROOT)
    go = run(["/tmp/goro_gcpause", f"-reps={args.reps}", f"-max_n={args.max_n}"] +
             ([f"-only={args.only}"] if args.only else []), ROOT)
    print("# after: ", machine_facts())
    print("| case | metric | goro | Go | goro/Go |")
    print("|---|---|---:|---:|---:|")
    for (name, metric), (value, unit) in goro.items():
        if metric.endswith("_min") or metric.endswith("_max"):
            continue
        peer_metric = "total_pause" if metric == "longest_pause" else metric
        peer = go.get((name, peer_metric))
        lo = goro.get((name, metric + "_min"), (value,))[0]
        hi = goro.get((name, metric + "_max"), (value,))[0]
        cell = f"{value:.4g} {unit} ({lo:.4g}-{hi:.4g})"
        if peer is None:
            print(f"| {name} | {metric} | {cell} | | |")
            continue
        plo = go.get((name, peer_metric + "_min"), peer)[0]
        phi = go.get((name, peer_metric + "_max"), peer)[0]
        ratio = value / peer[0] if peer[0] else float("nan")
        label = metric if peer_metric == metric else f"{metric} vs Go's {peer_metric}"
        print(f"| {name} | {label} | {cell} | {peer[0]:.4g} {unit} ({plo:.4g}-{phi:.4g}) | "
              f"{ratio:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

// The goals of preemption and the concurrent collector, on goro; bench/go/gcpause/main.go
// runs the same workloads on Go, and bench/preempt_gc_compare.py puts the two side by side:
//
//   BM_GCPause/<n>/<shape>   one collection with n parked goroutines (shape "parked"), with
//                            n goroutines that recursed 16 KiB deeper than where they park
//                            again before every cycle ("deep": every cycle shrinks them), or
//                            n parked plus two goroutines spinning in pure CPU loops
//                            ("spinners"): the longest and the total stop-the-world pause
//                            of the cycle, the cycle's wall time, and the longer of
//                            the two waits for the other Ps to stop (stop_wait)
//   BM_TickerGap             one P; a goroutine sleeps 1 ms at a time while another spins
//                            without safe points for a second: the longest gap between
//                            its wake-ups, and the 99th percentile
//   BM_CollectBehindSpinners two Ps, both busy with spinning goroutines: how long a
//                            collection takes from the call to its return
//   BM_PingPongDuringGC      two Ps; round trips of an unbuffered channel ping-pong per
//                            second, alone and while another goroutine runs collections
//                            back to back; their ratio
//
// Each figure is the median over --reps repetitions, with minimum and maximum. Automatic
// cycles are off (gcperiod=0, gcstackpercent=-1). Output lines: name<TAB>metric<TAB>value
// <TAB>unit (bench/peer_lines.h).
//
//   bazel run --config=opt //bench:preempt_gc_benchmark -- --reps=7 [--max_n=1000000]

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "bench/goro_workloads.h"
#include "bench/peer_lines.h"
#include "debugvars/registry.h"
#include "gc/gc.h"
#include "runtime/chan.h"
#include "runtime/goro.h"
#include "runtime/sync.h"

namespace {

using goro_bench::NowNs;
using goro_bench::TouchStack;

int reps = 7;
int max_n = 1000000;

void Emit(const std::string& name, const std::string& metric, const std::vector<double>& v,
          const std::string& unit) {
  goro_bench::EmitSummary(name, metric, v, unit, /*median_suffix=*/"");
}

// A pure CPU loop: no goro call, no system call.
ABSL_ATTRIBUTE_NOINLINE void SpinUntil(const std::atomic<bool>* stop) {
  volatile uint64_t x = 1;
  while (!stop->load(std::memory_order_relaxed)) x = x * 6364136223846793005ULL + 1;
}

// Starts `n` goroutines that wait for values on `wake` (recursing `depth` KiB deeper for
// each value before they wait again) until it is closed; returns when all are waiting for
// the first value. `parked` counts the ones back from a round.
void SpawnWaiters(int n, int depth, const goro::Chan<int>& wake, goro::WaitGroup* parked) {
  parked->Add(n);
  for (int i = 0; i < n; ++i) {
    goro::Go([wake, depth, parked] {
      parked->Done();
      while (wake.Receive().has_value()) {
        if (depth > 0) {
          volatile int sink = TouchStack(depth);
          (void)sink;
        }
        parked->Done();
      }
    });
  }
  parked->Wait();
}

void GCPause(int n, const std::string& shape) {
  goro::RunOptions options;
  options.procs = 2;
  goro::Run(
      [n, &shape] {
        const bool deep = shape == "deep";
        goro::Chan<int> wake(0);
        goro::WaitGroup parked;
        SpawnWaiters(n, deep ? 16 : 0, wake, &parked);
        std::atomic<bool> stop{false};
        goro::WaitGroup spinners;
        if (shape == "spinners") {
          spinners.Add(2);
          for (int i = 0; i < 2; ++i) {
            goro::Go([&] {
              SpinUntil(&stop);
              spinners.Done();
            });
          }
        }
        goro::Sleep(absl::Milliseconds(20));  // the last waiters park, the spinners start
        (void)goro::gc::Collect();            // warm-up: first measurement of every stack
        std::vector<double> longest_us, total_us, cycle_ms, stop_wait_us;
        for (int r = 0; r < reps; ++r) {
          if (deep) {
            parked.Add(n);
            for (int i = 0; i < n; ++i) wake.Send(i);
            parked.Wait();
            goro::Sleep(absl::Milliseconds(10));  // all parked again
          }
          absl::StatusOr<goro::gc::CycleStats> st = goro::gc::Collect();
          if (!st.ok()) std::abort();
          longest_us.push_back(absl::ToDoubleMicroseconds(st->stw_pause));
          total_us.push_back(absl::ToDoubleMicroseconds(st->pause_begin + st->pause_end));
          cycle_ms.push_back(
              absl::ToDoubleMilliseconds(st->pause_begin + st->concurrent + st->pause_end));
          stop_wait_us.push_back(absl::ToDoubleMicroseconds(st->stop_wait));
        }
        const std::string name = absl::StrCat("BM_GCPause/", n, "/", shape);
        Emit(name, "longest_pause", longest_us, "us");
        Emit(name, "total_pause", total_us, "us");
        Emit(name, "cycle", cycle_ms, "ms");
        Emit(name, "stop_wait", stop_wait_us, "us");
        stop.store(true);
        spinners.Wait();
        wake.Close();
      },
      options);
}

void TickerGap() {
  goro::RunOptions options;
  options.procs = 1;
  goro::Run(
      [] {
        std::vector<double> max_ms, p99_ms;
        for (int r = 0; r < reps; ++r) {
          std::atomic<bool> stop{false};
          goro::WaitGroup done;
          done.Add(1);
          goro::Go([&] {
            SpinUntil(&stop);
            done.Done();
          });
          goro::Sleep(absl::Milliseconds(1));  // the spinner runs
          std::vector<double> gaps;
          int64_t last = NowNs();
          const int64_t end = last + 1000 * 1000 * 1000;
          while (last < end) {
            goro::Sleep(absl::Milliseconds(1));
            const int64_t now = NowNs();
            gaps.push_back(static_cast<double>(now - last) / 1e6);
            last = now;
          }
          stop.store(true);
          done.Wait();
          std::sort(gaps.begin(), gaps.end());
          max_ms.push_back(gaps.back());
          p99_ms.push_back(gaps[gaps.size() * 99 / 100]);
        }
        Emit("BM_TickerGap", "max_gap", max_ms, "ms");
        Emit("BM_TickerGap", "p99_gap", p99_ms, "ms");
      },
      options);
}

void CollectBehindSpinners() {
  goro::RunOptions options;
  options.procs = 2;
  goro::Run(
      [] {
        std::atomic<bool> stop{false};
        goro::WaitGroup done;
        done.Add(2);
        for (int i = 0; i < 2; ++i) {
          goro::Go([&] {
            SpinUntil(&stop);
            done.Done();
          });
        }
        std::vector<double> ms;
        for (int r = 0; r < reps; ++r) {
          goro::Sleep(absl::Milliseconds(30));  // both Ps busy again
          const int64_t t0 = NowNs();
          if (!goro::gc::Collect().ok()) std::abort();
          ms.push_back(static_cast<double>(NowNs() - t0) / 1e6);
        }
        stop.store(true);
        done.Wait();
        Emit("BM_CollectBehindSpinners", "collect", ms, "ms");
      },
      options);
}

// Round trips per second over `window` of an unbuffered ping-pong.
double PingPongRate(absl::Duration window) {
  goro::Chan<int> ping(0), pong(0);
  goro::WaitGroup done;
  done.Add(1);
  goro::Go([&] {
    while (std::optional<int> v = ping.Receive()) pong.Send(*v);
    done.Done();
  });
  int64_t trips = 0;
  const int64_t t0 = NowNs();
  const int64_t end = t0 + absl::ToInt64Nanoseconds(window);
  int64_t now = t0;
  while (now < end) {
    for (int i = 0; i < 256; ++i) {
      ping.Send(i);
      pong.Receive();
    }
    trips += 256;
    now = NowNs();
  }
  ping.Close();
  done.Wait();
  return static_cast<double>(trips) / (static_cast<double>(now - t0) / 1e9);
}

void PingPongDuringGC() {
  goro::RunOptions options;
  options.procs = 2;
  goro::Run(
      [] {
        // A few thousand parked goroutines give each cycle real work.
        goro::Chan<int> wake(0);
        goro::WaitGroup parked;
        SpawnWaiters(10000, 0, wake, &parked);
        std::vector<double> alone, during, ratio, cycles;
        for (int r = 0; r < reps; ++r) {
          const double a = PingPongRate(absl::Milliseconds(500));
          std::atomic<bool> stop{false};
          std::atomic<int64_t> n{0};
          goro::WaitGroup collector;
          collector.Add(1);
          goro::Go([&] {
            while (!stop.load()) {
              if (!goro::gc::Collect().ok()) std::abort();
              n.fetch_add(1);
            }
            collector.Done();
          });
          const double d = PingPongRate(absl::Milliseconds(500));
          stop.store(true);
          collector.Wait();
          alone.push_back(a);
          during.push_back(d);
          ratio.push_back(d / a);
          cycles.push_back(static_cast<double>(n.load()) * 2);  // per second
        }
        Emit("BM_PingPongDuringGC", "alone", alone, "trips/s");
        Emit("BM_PingPongDuringGC", "during", during, "trips/s");
        Emit("BM_PingPongDuringGC", "ratio", ratio, "x");
        Emit("BM_PingPongDuringGC", "cycles", cycles, "cycles/s");
        wake.Close();
      },
      options);
}

}  // namespace

int main(int argc, char** argv) {
  std::string only;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--reps=", 0) == 0 && absl::SimpleAtoi(arg.substr(7), &reps) && reps > 0) {
      continue;
    }
    if (arg.rfind("--max_n=", 0) == 0 && absl::SimpleAtoi(arg.substr(8), &max_n) && max_n > 0) {
      continue;
    }
    if (arg.rfind("--only=", 0) == 0) {
      only = arg.substr(7);
      continue;
    }
    std::fprintf(stderr, "usage: %s [--reps=N] [--max_n=N] [--only=SUBSTRING]\n", argv[0]);
    return 2;
  }
  auto& registry = goro::debugvars::Registry::Global();
  if (!registry.Set("gcperiod", "0", "preempt_gc_benchmark").ok() ||
      !registry.Set("gcstackpercent", "-1", "preempt_gc_benchmark").ok()) {
    std::fprintf(stderr, "preempt_gc_benchmark: cannot turn the automatic cycles off\n");
    return 1;
  }
  auto want = [&only](const std::string& name) {
    return only.empty() || name.find(only) != std::string::npos;
  };
  for (int n : {1000, 10000, 100000, 1000000}) {
    if (n > max_n) continue;
    for (const std::string shape : {"parked", "deep", "spinners"}) {
      // 1M goroutines 16 KiB deep would commit 16 GiB: the deep shape stops at 100k.
      if (shape == "deep" && n > 100000) continue;
      if (want(absl::StrCat("BM_GCPause/", n, "/", shape))) GCPause(n, shape);
    }
  }
  if (want("BM_TickerGap")) TickerGap();
  if (want("BM_CollectBehindSpinners")) CollectBehindSpinners();
  if (want("BM_PingPongDuringGC")) PingPongDuringGC();
  return 0;
}

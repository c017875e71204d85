// The goroutine dump's goals (diag/goroutine_dump.h): a dump of 100,000 goroutines in at most
// a second, and at most 20 us added to any single goroutine's latency.
//
//   BM_GoroutineDump/<n>/<from>   n goroutines parked on a channel in a named function, plus
//                                 a probe: two goroutines ping-ponging on unbuffered channels.
//                                 A dump is taken from a goroutine ("goroutine", the API) or
//                                 from a thread that runs none ("thread", as SIGQUIT and the
//                                 control socket do): the time to take the records
//                                 (snapshot), to print them (format, symbolisation
//                                 included), the longest probe round trip during the
//                                 snapshot, and the longest over as many round trips just
//                                 before it (baseline).
//
// Each figure is the median over --reps repetitions, with minimum and maximum; two Ps.
// Automatic cycles are off. Output lines: name<TAB>metric<TAB>value<TAB>unit.
//
// --stack_kib sets each goroutine's stack reserve (RunOptions::stack_bytes; default 256):
// on a paravirtualised guest the first read of a parked goroutine's stack costs far more
// when the stacks are spread thinly over page tables (docs/benchmarks.md).
//
//   bazel run --config=opt //bench:goroutine_dump_benchmark -- --reps=5 [--max_n=100000]
//       [--stack_kib=256]

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "bench/peer_lines.h"
#include "debugvars/registry.h"
#include "diag/goroutine_dump.h"
#include "runtime/chan.h"
#include "runtime/goro.h"
#include "runtime/sync.h"

namespace {

using goro_bench::NowNs;

int reps = 5;
int max_n = 100000;
size_t stack_kib = 0;  // RunOptions::stack_bytes / 1024; 0: the default

ABSL_ATTRIBUTE_NOINLINE void ParkedInBenchmark(goro::Chan<int> c) { c.Receive(); }

// The probe: round trips until `stop`; records the longest one that began while `window`
// was set, and the longest of the others.
struct Probe {
  std::atomic<bool> stop{false};
  std::atomic<bool> window{false};
  std::atomic<int64_t> max_in_window_ns{0};
  std::atomic<int64_t> max_outside_ns{0};
  std::atomic<int64_t> round_trips{0};
};

void RunProbe(Probe* probe, goro::WaitGroup* done) {
  goro::Chan<int> ping(0);
  goro::Chan<int> pong(0);
  goro::Go([ping, pong] {
    while (auto v = ping.Receive()) pong.Send(*v);
  });
  while (!probe->stop.load(std::memory_order_relaxed)) {
    const bool in_window = probe->window.load(std::memory_order_relaxed);
    const int64_t t0 = NowNs();
    ping.Send(1);
    pong.Receive();
    const int64_t rtt = NowNs() - t0;
    auto& max = in_window ? probe->max_in_window_ns : probe->max_outside_ns;
    if (rtt > max.load(std::memory_order_relaxed)) max.store(rtt, std::memory_order_relaxed);
    probe->round_trips.fetch_add(1, std::memory_order_relaxed);
  }
  ping.Close();
  done->Done();
}

void Bench(int n, bool from_thread) {
  std::vector<double> snapshot_ms, format_ms, in_window_us, baseline_us, records;
  for (int rep = 0; rep < reps; ++rep) {
    goro::RunOptions options;
    options.procs = 2;
    options.stack_bytes = stack_kib * 1024;
    goro::Run(
        [&] {
          goro::Chan<int> c(0);
          for (int i = 0; i < n; ++i) goro::Go([c] { ParkedInBenchmark(c); });
          Probe probe;
          goro::WaitGroup done;
          done.Add(1);
          goro::Go([&] { RunProbe(&probe, &done); });
          // Baseline: the probe's longest round trip over as long as the snapshot will take
          // (estimated from the previous repetition, at least 50 ms).
          const double previous_ms = snapshot_ms.empty() ? 50.0 : snapshot_ms.back();
          const int64_t baseline_end = NowNs() + std::max<int64_t>(50'000'000,
                                                   static_cast<int64_t>(previous_ms * 1e6));
          while (NowNs() < baseline_end) goro::Sleep(absl::Milliseconds(1));
          probe.window.store(true);
          const int64_t t0 = NowNs();
          absl::StatusOr<std::vector<goro::diag::GoroutineRecord>> got;
          if (from_thread) {
            std::thread t([&] { got = goro::diag::SnapshotGoroutines(); });
            // In a blocking call, so that the dump can take this goroutine too (a goroutine
            // stopped inside libc's join could not be preempted).
            goro::BlockingCall([&] { t.join(); });
          } else {
            got = goro::diag::SnapshotGoroutines();
          }
          const int64_t t1 = NowNs();
          probe.window.store(false);
          if (!got.ok()) {
            std::fprintf(stderr, "dump failed: %s\n", got.status().ToString().c_str());
            std::exit(1);
          }
          const std::string text = goro::diag::FormatGoroutines(*got);
          const int64_t t2 = NowNs();
          probe.stop.store(true);
          done.Wait();
          snapshot_ms.push_back(static_cast<double>(t1 - t0) / 1e6);
          format_ms.push_back(static_cast<double>(t2 - t1) / 1e6);
          in_window_us.push_back(static_cast<double>(probe.max_in_window_ns.load()) / 1e3);
          baseline_us.push_back(static_cast<double>(probe.max_outside_ns.load()) / 1e3);
          records.push_back(static_cast<double>(got->size()));
          c.Close();
        },
        options);
  }
  const std::string name =
      absl::StrCat("BM_GoroutineDump/", n, from_thread ? "/thread" : "/goroutine");
  goro_bench::EmitSummary(name, "records", records, "goroutines", "");
  goro_bench::EmitSummary(name, "snapshot", snapshot_ms, "ms", "");
  goro_bench::EmitSummary(name, "format", format_ms, "ms", "");
  goro_bench::EmitSummary(name, "probe_max_rtt_during", in_window_us, "us", "");
  goro_bench::EmitSummary(name, "probe_max_rtt_before", baseline_us, "us", "");
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (absl::StartsWith(arg, "--reps=")) {
      if (!absl::SimpleAtoi(arg.substr(7), &reps) || reps < 1) return 2;
    } else if (absl::StartsWith(arg, "--max_n=")) {
      if (!absl::SimpleAtoi(arg.substr(8), &max_n) || max_n < 1) return 2;
    } else if (absl::StartsWith(arg, "--stack_kib=")) {
      if (!absl::SimpleAtoi(arg.substr(12), &stack_kib) || stack_kib < 16) return 2;
    } else {
      std::fprintf(stderr,
                   "usage: goroutine_dump_benchmark [--reps=N] [--max_n=N] [--stack_kib=N]\n");
      return 2;
    }
  }
  auto& registry = goro::debugvars::Registry::Global();
  (void)registry.Set("gcperiod", "0", "benchmark");
  (void)registry.Set("gcstackpercent", "-1", "benchmark");
  for (int n = 1000; n <= max_n; n *= 10) {
    Bench(n, /*from_thread=*/false);
    Bench(n, /*from_thread=*/true);
  }
  return 0;
}

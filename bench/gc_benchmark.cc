// The collector's costs (the goals in docs/benchmarks.md):
//
//   BM_GC_Pause/<n>          one cycle with n parked goroutines and nothing to shrink: its
//                            longer stop-the-world pause, the time waiting for Ps to stop,
//                            and the whole cycle (both pauses and the concurrent phase that
//                            suspends, scans and resumes every goroutine) per goroutine
//   BM_GC_ScanShrink/10000   one cycle after 10,000 goroutines each recursed ~48 KiB and
//                            parked again: the cycle per goroutine with every stack shrunk,
//                            RSS before and after, RSS reclaimed
//   BM_GC_ReleaseFloor       the kernel's share of such a shrink, measured before any goro
//                            thread exists: one mincore + madvise(MADV_DONTNEED) of 48 KiB
//                            of touched pages per 64 KiB region, 10,000 regions
//   BM_GC_CommittedSample    one committed-stack sample (what the stack-goal trigger costs
//                            sysmon) with 100,000 goroutines
//
// Each figure is the median over --reps repetitions, with minimum and maximum. Automatic
// cycles are turned off (gcperiod=0, gcstackpercent=-1) so that only the measured ones run.
// Output lines: name<TAB>metric<TAB>value<TAB>unit (bench/peer_lines.h).
//
//   bazel run --config=opt //bench:gc_benchmark -- --reps=9

#include <sys/mman.h>
#include <unistd.h>

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

using goro_bench::EmitLine;
using goro_bench::NowNs;
using goro_bench::TouchStack;

int reps = 9;

// The gc benchmark's medians carry the bare metric name.
void Emit(const std::string& name, const std::string& metric, const std::vector<double>& v,
          const std::string& unit) {
  goro_bench::EmitSummary(name, metric, v, unit, /*median_suffix=*/"");
}

// Starts n goroutines that park on `release` (until it is closed) and waits until each has
// started; the caller sleeps a little if it needs them all parked.
void SpawnParked(int n, const goro::Chan<int>& release) {
  goro::WaitGroup started;
  started.Add(n);
  for (int i = 0; i < n; ++i) {
    goro::Go([release, &started] {
      started.Done();
      release.Receive();
    });
  }
  started.Wait();
}

void PauseWith(int n) {
  goro::RunOptions options;
  goro::Run(
      [n] {
        goro::Chan<int> release(0);
        SpawnParked(n, release);
        goro::Sleep(absl::Milliseconds(10));  // let the last ones park
        (void)goro::gc::Collect();            // warm-up: first-touch work, nothing to shrink later
        std::vector<double> pause_us, per_g_ns, stop_us;
        for (int r = 0; r < reps; ++r) {
          absl::StatusOr<goro::gc::CycleStats> st = goro::gc::Collect();
          if (!st.ok()) std::abort();
          pause_us.push_back(absl::ToDoubleMicroseconds(st->stw_pause));
          stop_us.push_back(absl::ToDoubleMicroseconds(st->stop_wait));
          per_g_ns.push_back(
              absl::ToDoubleNanoseconds(st->pause_begin + st->concurrent + st->pause_end) /
              static_cast<double>(st->goroutines_scanned));
        }
        const std::string name = absl::StrCat("BM_GC_Pause/", n);
        Emit(name, "stw_pause", pause_us, "us");
        Emit(name, "stop_wait", stop_us, "us");
        Emit(name, "cycle_per_goroutine", per_g_ns, "ns");
        release.Close();
      },
      options);
}

void ScanShrink() {
  constexpr int kGoroutines = 10000;
  constexpr int kDepth = 48;
  goro::Run([] {
    goro::Chan<int> go_deep(0);
    goro::WaitGroup parked;
    std::vector<double> per_g_ns, reclaimed_mib, before_mib, after_mib, shrinks;
    parked.Add(kGoroutines);
    for (int i = 0; i < kGoroutines; ++i) {
      goro::Go([go_deep, &parked] {
        parked.Done();
        while (go_deep.Receive().has_value()) {
          volatile int sink = TouchStack(kDepth);
          (void)sink;
          parked.Done();
        }
      });
    }
    parked.Wait();
    (void)goro::gc::Collect();
    for (int r = 0; r < reps; ++r) {
      parked.Add(kGoroutines);
      for (int i = 0; i < kGoroutines; ++i) go_deep.Send(i);
      parked.Wait();
      goro::Sleep(absl::Milliseconds(10));  // all parked again on go_deep
      const int64_t rss_before = goro_bench::ResidentBytes();
      absl::StatusOr<goro::gc::CycleStats> st = goro::gc::Collect();
      if (!st.ok()) std::abort();
      const int64_t rss_after = goro_bench::ResidentBytes();
      per_g_ns.push_back(
          absl::ToDoubleNanoseconds(st->pause_begin + st->concurrent + st->pause_end) /
          static_cast<double>(st->goroutines_scanned));
      before_mib.push_back(static_cast<double>(rss_before) / (1 << 20));
      after_mib.push_back(static_cast<double>(rss_after) / (1 << 20));
      reclaimed_mib.push_back(static_cast<double>(rss_before - rss_after) / (1 << 20));
      shrinks.push_back(static_cast<double>(st->shrinks));
    }
    const std::string name = absl::StrCat("BM_GC_ScanShrink/", kGoroutines);
    Emit(name, "cycle_per_goroutine", per_g_ns, "ns");
    Emit(name, "rss_before", before_mib, "MiB");
    Emit(name, "rss_after", after_mib, "MiB");
    Emit(name, "rss_reclaimed", reclaimed_mib, "MiB");
    Emit(name, "shrinks", shrinks, "count");
    go_deep.Close();
  });
}

void ReleaseFloor() {
  constexpr size_t kRegions = 10000;
  constexpr size_t kRegion = 64 * 1024;
  constexpr size_t kTouched = 48 * 1024;
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  void* mem = mmap(nullptr, kRegions * kRegion, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mem == MAP_FAILED) std::abort();
  madvise(mem, kRegions * kRegion, MADV_NOHUGEPAGE);
  auto* base = static_cast<char*>(mem);
  std::vector<unsigned char> vec(kRegion / page);
  std::vector<double> per_region_ns;
  for (int r = 0; r < reps; ++r) {
    for (size_t i = 0; i < kRegions; ++i) {
      for (size_t off = kRegion - kTouched; off < kRegion; off += page) base[i * kRegion + off] = 1;
    }
    const int64_t t0 = NowNs();
    for (size_t i = 0; i < kRegions; ++i) {
      char* region = base + i * kRegion;
      if (mincore(region, kRegion, vec.data()) != 0) std::abort();
      madvise(region, kRegion, MADV_DONTNEED);
    }
    per_region_ns.push_back(static_cast<double>(NowNs() - t0) / kRegions);
  }
  munmap(mem, kRegions * kRegion);
  Emit("BM_GC_ReleaseFloor/10000", "per_region", per_region_ns, "ns");
}

void CommittedSample() {
  constexpr int kGoroutines = 100000;
  goro::Run([] {
    goro::Chan<int> release(0);
    SpawnParked(kGoroutines, release);
    std::vector<double> us;
    for (int r = 0; r < reps; ++r) {
      const int64_t t0 = NowNs();
      absl::StatusOr<uint64_t> bytes = goro::gc::CommittedStackBytes();
      if (!bytes.ok()) std::abort();
      us.push_back(static_cast<double>(NowNs() - t0) / 1000.0);
    }
    Emit(absl::StrCat("BM_GC_CommittedSample/", kGoroutines), "time", us, "us");
    release.Close();
  });
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--reps=", 0) == 0 && absl::SimpleAtoi(arg.substr(7), &reps) && reps > 0) {
      continue;
    }
    std::fprintf(stderr, "usage: %s [--reps=N]\n", argv[0]);
    return 2;
  }
  auto& registry = goro::debugvars::Registry::Global();
  if (!registry.Set("gcperiod", "0", "gc_benchmark").ok() ||
      !registry.Set("gcstackpercent", "-1", "gc_benchmark").ok()) {
    std::fprintf(stderr, "gc_benchmark: cannot turn the automatic cycles off\n");
    return 1;
  }
  ReleaseFloor();  // first: no goro thread exists yet
  for (int n : {1000, 10000, 100000}) PauseWith(n);
  ScanShrink();
  CommittedSample();
  return 0;
}

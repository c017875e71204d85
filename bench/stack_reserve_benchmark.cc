// What a goroutine's stack reserve (RunOptions::stack_bytes) costs when many goroutines are
// parked: the measurement behind the default (docs/scheduler.md, "Stack reserve").
//
//   BM_StackReserve/<KiB>   n goroutines that each park once (one goro::Notification):
//                           spawn time until all have parked, VmRSS, VmPTE (page tables),
//                           VmSize, /proc/self/maps lines, slabs, and the stop-the-world
//                           pause of a first collection (every stack measured with mincore)
//                           and of a second one (measurements reused: nothing ran)
//
// Each reserve runs in a fresh child process (RSS and mapping counts start from the same
// place), with 2 Ps and the default guard mode. Automatic collections are off
// (gcperiod=0, gcstackpercent=-1) so that only the measured ones run.
// Output lines: name<TAB>metric<TAB>value<TAB>unit (bench/peer_lines.h).
//
//   bazel run --config=opt //bench:stack_reserve_benchmark -- --goroutines=1000000
//       (reserves in KiB: --stack_kib=256,1024,8192, the default list)

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bench/peer_lines.h"
#include "debugvars/registry.h"
#include "gc/gc.h"
#include "runtime/goro.h"
#include "runtime/sched.h"
#include "runtime/stack_guard.h"
#include "runtime/sync.h"

namespace {

using goro_bench::EmitComment;
using goro_bench::EmitLine;
using goro_bench::NowNs;

// The value of a "Key:   N kB" line of /proc/self/status, in bytes; -1 if absent.
int64_t StatusKiB(const char* key) {
  const int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof(buf))) > 0;) text.append(buf, static_cast<size_t>(n));
  close(fd);
  const std::string needle = absl::StrCat("\n", key, ":");
  const size_t at = text.find(needle);
  if (at == std::string::npos) return -1;
  return std::strtoll(text.c_str() + at + needle.size(), nullptr, 10);
}

// CPU time (user + system) of every thread of the process so far, in nanoseconds: less
// sensitive than wall time to other work on the machine.
int64_t CpuNs() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto ns = [](const timeval& tv) { return int64_t{tv.tv_sec} * 1000000000 + tv.tv_usec * 1000; };
  return ns(ru.ru_utime) + ns(ru.ru_stime);
}

double MiB(int64_t kib) { return static_cast<double>(kib) / 1024.0; }

void RunOne(int goroutines, int stack_kib) {
  goro::RunOptions options;
  options.procs = 2;
  options.stack_bytes = static_cast<size_t>(stack_kib) * 1024;
  const std::string name = absl::StrCat("BM_StackReserve/", stack_kib);
  const int64_t rss0 = StatusKiB("VmRSS");
  const int64_t pte0 = StatusKiB("VmPTE");
  const int64_t maps0 = goro_bench::CountMappings();
  goro::Run(
      [&] {
        goro::Notification release;
        goro::WaitGroup started;
        started.Add(goroutines);
        const int64_t t0 = NowNs();
        const int64_t cpu0 = CpuNs();
        for (int i = 0; i < goroutines; ++i) {
          goro::Go([&release, &started] {
            started.Done();
            release.WaitForNotification();
          });
        }
        started.Wait();
        const int64_t spawn_ns = NowNs() - t0;
        const int64_t spawn_cpu_ns = CpuNs() - cpu0;
        // Every goroutine has run; the last few may still be on their way to the park.
        for (int i = 0; i < 100; ++i) goro::Yield();
        auto* s = goro::runtime_internal::sched();
        const goro::StackPoolStats stats = s->stacks->Stats();
        EmitComment(absl::StrCat(name, " guard mode ", goro::StackGuardModeName(stats.guard_mode)));
        EmitLine(name, "goroutines", goroutines, "count");
        EmitLine(name, "spawn_total", static_cast<double>(spawn_ns) / 1e6, "ms");
        EmitLine(name, "spawn_per_goroutine", static_cast<double>(spawn_ns) / goroutines, "ns");
        EmitLine(name, "spawn_cpu_per_goroutine", static_cast<double>(spawn_cpu_ns) / goroutines,
                 "ns");
        EmitLine(name, "vm_rss", MiB(StatusKiB("VmRSS") - rss0), "MiB");
        EmitLine(name, "vm_pte", MiB(StatusKiB("VmPTE") - pte0), "MiB");
        EmitLine(name, "vm_size", MiB(StatusKiB("VmSize")) / 1024.0, "GiB");
        EmitLine(name, "mappings", static_cast<double>(goro_bench::CountMappings() - maps0),
                 "count");
        EmitLine(name, "slabs", static_cast<double>(stats.slabs), "count");
        EmitLine(name, "reserved", static_cast<double>(stats.reserved_bytes) / (1ull << 30), "GiB");
        for (int cycle = 1; cycle <= 2; ++cycle) {
          const int64_t c0 = NowNs();
          absl::StatusOr<goro::gc::CycleStats> st = goro::gc::Collect();
          const int64_t c1 = NowNs();
          if (!st.ok()) std::abort();
          EmitLine(name, absl::StrCat("gc", cycle, "_stw_pause"),
                   absl::ToDoubleMilliseconds(st->stw_pause), "ms");
          EmitLine(name, absl::StrCat("gc", cycle, "_collect"), static_cast<double>(c1 - c0) / 1e6,
                   "ms");
          EmitLine(name, absl::StrCat("gc", cycle, "_committed_after"),
                   static_cast<double>(st->committed_after) / (1 << 20), "MiB");
        }
        const int64_t e0 = NowNs();
        release.Notify();
        while (s->live_goroutines.load(std::memory_order_relaxed) > 1) goro::Yield();
        EmitLine(name, "exit_all", static_cast<double>(NowNs() - e0) / 1e6, "ms");
      },
      options);
}

}  // namespace

int main(int argc, char** argv) {
  int goroutines = 1000000;
  std::string kibs = "256,1024,8192";
  bool child = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--goroutines=", 0) == 0 && absl::SimpleAtoi(arg.substr(13), &goroutines) &&
        goroutines > 0) {
      continue;
    }
    if (arg.rfind("--stack_kib=", 0) == 0) {
      kibs = arg.substr(12);
      continue;
    }
    if (arg == "--child") {
      child = true;
      continue;
    }
    std::fprintf(stderr, "usage: %s [--goroutines=N] [--stack_kib=K1,K2,...]\n", argv[0]);
    return 2;
  }
  auto& registry = goro::debugvars::Registry::Global();
  if (!registry.Set("gcperiod", "0", "stack_reserve_benchmark").ok() ||
      !registry.Set("gcstackpercent", "-1", "stack_reserve_benchmark").ok()) {
    std::fprintf(stderr, "stack_reserve_benchmark: cannot turn the automatic cycles off\n");
    return 1;
  }
  std::vector<std::string> list = absl::StrSplit(kibs, ',');
  if (child) {
    int kib = 0;
    if (list.size() != 1 || !absl::SimpleAtoi(list[0], &kib) || kib < 16) return 2;
    RunOne(goroutines, kib);
    return 0;
  }
  goro_bench::EmitComment(absl::StrCat("goroutines=", goroutines, " procs=2"));
  for (const std::string& kib : list) {
    for (const std::string& line : goro_bench::RunSelf(
             {"--child", absl::StrCat("--goroutines=", goroutines), "--stack_kib=" + kib})) {
      std::printf("%s\n", line.c_str());
    }
    std::fflush(stdout);
  }
  return 0;
}

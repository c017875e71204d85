// goro's side of the peer comparison (bench/README.md): the same workloads as
// bench/go/peer_bench.go and bench/boost/boost_peer_bench.cc, printed as
// name<TAB>metric<TAB>value<TAB>unit lines, one per repetition.
//
// Every case runs its repetitions in one goro::Run with the number of Ps it names (procs:1 or
// procs:all = the affinity mask's CPU count), so runtime start-up and shutdown are outside
// the timed region but inside the process. BM_Spawn_Parked runs in a child process per
// repetition, as the Boost peer does, so that its RSS delta starts from a clean heap.
// BM_Context_Switch measures the bare switch of runtime/arch (goro::Context), the
// counterpart of Boost.Context's fiber::resume.

#include <malloc.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <sys/mman.h>

#include "bench/goro_workloads.h"
#include "bench/peer_lines.h"
#include "bench/peer_workloads.h"
#include "runtime/arch/context_switch.h"
#include "runtime/chan.h"
#include "runtime/goro.h"
#include "runtime/sync.h"

namespace {

using goro::WaitGroup;

using goro_bench::EmitComment;
using goro_bench::EmitLine;
using goro_bench::NowNs;

using goro_bench::HashChunk;
using goro_bench::kChanIters;
using goro_bench::kContextIters;
using goro_bench::kFanOutChunks;
using goro_bench::kFanOutIters;
using goro_bench::kYieldIters;


int64_t spawn_n = 1'000'000;  // --spawn_n
std::string only;             // --only: run the cases whose name contains this

bool Wanted(const std::string& name) { return only.empty() || name.find(only) != std::string::npos; }

goro::RunOptions Procs(int procs) {
  goro::RunOptions options;
  options.procs = procs;
  return options;
}

// --- BM_Context_Switch: two contexts switching back and forth, no scheduler -------------

struct SwitchPair {
  goro::Context main;
  goro::Context peer;
  bool stop = false;
};

void SwitchPeer(void* arg) {
  auto* pair = static_cast<SwitchPair*>(arg);
  while (!pair->stop) goro::SwitchContext(&pair->peer, &pair->main);
  goro::SwitchContext(&pair->peer, &pair->main);  // Never resumed after this.
}

void BenchContextSwitch(int reps) {
  constexpr size_t kStackBytes = 64 * 1024;
  void* mem = mmap(nullptr, kStackBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
  if (mem == MAP_FAILED) std::abort();
  const auto lo = reinterpret_cast<uintptr_t>(mem);
  for (int r = 0; r < reps; ++r) {
    SwitchPair pair;
    pair.main.InitForCurrentThread();
    pair.peer.InitOnStack(lo, lo + kStackBytes, SwitchPeer, &pair);
    const int64_t t0 = NowNs();
    for (int64_t i = 0; i < kContextIters; ++i) goro::SwitchContext(&pair.main, &pair.peer);
    const int64_t t1 = NowNs();
    pair.stop = true;
    goro::SwitchContext(&pair.main, &pair.peer);
    EmitLine("BM_Context_Switch", "switch", double(t1 - t0) / double(2 * kContextIters), "ns");
  }
  munmap(mem, kStackBytes);
}

// --- Scheduler cases -------------------------------------------------------------------

// Each case below runs all its repetitions inside one goro::Run, as the Go peer runs them
// inside one Go runtime: the first repetition pays for fresh stacks and page faults, the
// later ones reuse dead goroutines and their stacks (Go's gfree cache does the same).

double YieldOnce() { return goro_bench::YieldPair(kYieldIters); }

// The main goroutine sends i on ping, a peer goroutine echoes it on pong.
double ChanPingPongOnce() {
  goro::Chan<int64_t> ping = goro::MakeChan<int64_t>();
  goro::Chan<int64_t> pong = goro::MakeChan<int64_t>();
  WaitGroup wg;
  wg.Add(1);
  const int64_t t0 = NowNs();
  goro::Go([ping, pong, &wg] {
    while (std::optional<int64_t> v = ping.Receive()) pong.Send(*v);
    wg.Done();
  });
  for (int64_t i = 0; i < kChanIters; ++i) {
    ping.Send(i);
    if (pong.Receive() != i) std::abort();
  }
  ping.Close();
  wg.Wait();
  return double(NowNs() - t0) / double(kChanIters);
}

double SpawnJoinOnce() {
  WaitGroup wg;
  wg.Add(static_cast<int32_t>(spawn_n));
  const int64_t t0 = NowNs();
  for (int64_t i = 0; i < spawn_n; ++i) goro::Go([&wg] { wg.Done(); });
  wg.Wait();
  return double(NowNs() - t0) / double(spawn_n);
}

// Runs in a fresh process: spawn_n goroutines each block on one unbuffered channel.
void ParkedOnce() {
  goro::Run([] {
    goro::Chan<int> gate = goro::MakeChan<int>();
    goro::WaitGroup started;
    goro::WaitGroup exited;
    started.Add(static_cast<int32_t>(spawn_n));
    exited.Add(static_cast<int32_t>(spawn_n));
    const int64_t rss0 = goro_bench::ResidentBytes();
    const int64_t maps0 = goro_bench::CountMappings();
    const int64_t t0 = NowNs();
    for (int64_t i = 0; i < spawn_n; ++i) {
      goro::Go([gate, &started, &exited] {
        started.Done();
        gate.Receive();  // Parks until Close.
        exited.Done();
      });
    }
    started.Wait();
    const int64_t t1 = NowNs();
    const int64_t rss1 = goro_bench::ResidentBytes();
    const int64_t maps1 = goro_bench::CountMappings();
    gate.Close();
    exited.Wait();
    const std::string name = "BM_Spawn_Parked/n:" + std::to_string(spawn_n) + "/procs:1";
    EmitLine(name, "spawn_per_g", double(t1 - t0) / double(spawn_n), "ns");
    EmitLine(name, "rss_per_g", double(rss1 - rss0) / double(spawn_n), "B");
    EmitLine(name, "maps", double(maps1), "count");
    EmitLine(name, "maps_delta", double(maps1 - maps0), "count");
  }, Procs(1));
}

double FanOutOnce(uint64_t* checksum) {
  std::vector<uint64_t> out(kFanOutChunks);
  WaitGroup wg;
  wg.Add(kFanOutChunks);
  const int64_t t0 = NowNs();
  for (int c = 0; c < kFanOutChunks; ++c) {
    goro::Go([&out, &wg, c] {
      out[static_cast<size_t>(c)] = HashChunk(static_cast<uint64_t>(c), kFanOutIters);
      wg.Done();
    });
  }
  wg.Wait();
  const double ms = double(NowNs() - t0) / 1e6;
  uint64_t sum = 0;
  for (uint64_t v : out) sum ^= v;
  *checksum = sum;
  return ms;
}

// Runs `once` `reps` times inside one goro::Run with `procs` Ps and returns the values.
template <typename F>
std::vector<double> Repeat(int procs, int reps, F once) {
  std::vector<double> values;
  goro::Run([&] {
    for (int r = 0; r < reps; ++r) values.push_back(once());
  }, Procs(procs));
  return values;
}

void EmitAll(const std::string& name, const char* metric, const std::vector<double>& values,
             const char* unit) {
  for (double v : values) EmitLine(name, metric, v, unit);
}

int Usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--reps=K] [--spawn_n=N] [--only=SUBSTRING]\n"
               "  prints name<TAB>metric<TAB>value<TAB>unit lines (bench/README.md);\n"
               "  the spawn cases use N goroutines (default 1000000) and run min(K, 3)\n"
               "  times; the others run K times (default 5). --only runs the cases whose\n"
               "  name contains SUBSTRING (for profiling one case).\n",
               argv0);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 5;
  bool parked = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--reps=", 7) == 0) {
      reps = std::atoi(argv[i] + 7);
    } else if (std::strncmp(argv[i], "--spawn_n=", 10) == 0) {
      spawn_n = std::atoll(argv[i] + 10);
    } else if (std::strncmp(argv[i], "--only=", 7) == 0) {
      only = argv[i] + 7;
    } else if (std::strcmp(argv[i], "--child-parked") == 0) {
      parked = true;
    } else {
      return Usage(argv[0]);
    }
  }
  if (reps < 1 || spawn_n < 1 || spawn_n > INT32_MAX) return Usage(argv[0]);
  // Same heap policy as the Boost peer: freed memory stays in the process between
  // repetitions (goro's own stack pool keeps stacks anyway).
  mallopt(M_TRIM_THRESHOLD, -1);
  if (parked) {
    ParkedOnce();
    return 0;
  }

  const int all = goro_bench::AllProcs();
  const int big_reps = std::min(reps, 3);
  const std::string procs_all = all == 1 ? "1" : "all";
  char header[160];
  std::snprintf(header, sizeof(header), "impl=goro procs_all=%d stack_reserve=%s reps=%d",
                all, "256KiB", reps);
  EmitComment(header);

  if (Wanted("BM_Context_Switch")) BenchContextSwitch(reps);
  if (Wanted("BM_Yield_PingPong/procs:1")) {
    EmitAll("BM_Yield_PingPong/procs:1", "yield", Repeat(1, reps, YieldOnce), "ns");
  }
  if (Wanted("BM_Chan_PingPong/procs:1")) {
    EmitAll("BM_Chan_PingPong/procs:1", "round_trip", Repeat(1, reps, ChanPingPongOnce), "ns");
  }
  if (all > 1 && Wanted("BM_Chan_PingPong/procs:all")) {
    EmitAll("BM_Chan_PingPong/procs:all", "round_trip", Repeat(all, reps, ChanPingPongOnce),
            "ns");
  }
  const std::string n = std::to_string(spawn_n);
  if (Wanted("BM_Spawn_Join/n:" + n + "/procs:1")) {
    EmitAll("BM_Spawn_Join/n:" + n + "/procs:1", "per_g", Repeat(1, big_reps, SpawnJoinOnce),
            "ns");
  }
  if (all > 1 && Wanted("BM_Spawn_Join/n:" + n + "/procs:all")) {
    EmitAll("BM_Spawn_Join/n:" + n + "/procs:all", "per_g",
            Repeat(all, big_reps, SpawnJoinOnce), "ns");
  }
  if (Wanted("BM_Spawn_Parked/n:" + n + "/procs:1")) {
    for (int r = 0; r < big_reps; ++r) {
      for (const std::string& line :
           goro_bench::RunSelf({"--child-parked", "--spawn_n=" + n})) {
        std::printf("%s\n", line.c_str());
      }
      std::fflush(stdout);
    }
  }

  const std::string fan = "BM_FanOut_Hash/chunks:" + std::to_string(kFanOutChunks);
  uint64_t checksum = 0;
  if (Wanted(fan)) {
    auto fan_once = [&checksum] { return FanOutOnce(&checksum); };
    const std::vector<double> wall1 = Repeat(1, reps, fan_once);
    const std::vector<double> wall_all = Repeat(all, reps, fan_once);
    EmitAll(fan + "/procs:1", "wall", wall1, "ms");
    EmitAll(fan + "/procs:" + procs_all, "wall", wall_all, "ms");
    for (size_t r = 0; r < wall1.size(); ++r) EmitLine(fan, "speedup", wall1[r] / wall_all[r], "x");
  }
  char note[64];
  std::snprintf(note, sizeof(note), "fanout_checksum=%016llx",
                static_cast<unsigned long long>(checksum));
  EmitComment(note);
  return 0;
}

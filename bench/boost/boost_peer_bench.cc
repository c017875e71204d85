// Boost.Fiber / Boost.Context peer of goro's benchmarks: the workloads of bench/README.md on
// Boost 1.74, printed as name<TAB>metric<TAB>value<TAB>unit lines, one per repetition.
//
// Choices (see bench/README.md for the reasons):
// - Every fiber gets a 16 KiB fixedsize_stack (malloc'ed, no guard page): Boost's 128 KiB
//   default is malloc'ed above the mmap threshold, one mapping per stack, and 1M parked
//   fibers would exceed vm.max_map_count (65530). Boost stacks cannot grow.
// - procs:1 cases use the default round_robin scheduler on the main thread; procs:all and
//   the fan-out use work_stealing (suspend = false, Boost's default) with one thread per CPU.
//   work_stealing can be set up once per process (a static barrier sized by its first
//   thread count), so those cases run in a child process per thread count.
// - Spawn+join uses detached fibers and a WaitGroup (atomic counter, one wake-up at zero),
//   the same shape as Go's `go f()` + sync.WaitGroup.

#include <boost/context/fiber.hpp>
#include <boost/context/fixedsize_stack.hpp>
#include <boost/fiber/algo/work_stealing.hpp>
#include <boost/fiber/condition_variable.hpp>
#include <boost/fiber/fiber.hpp>
#include <boost/fiber/fixedsize_stack.hpp>
#include <boost/fiber/mutex.hpp>
#include <boost/fiber/operations.hpp>
#include <boost/fiber/unbuffered_channel.hpp>
#include <boost/version.hpp>
#include <malloc.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bench/peer_lines.h"
#include "bench/peer_workloads.h"

namespace {

using goro_bench::EmitComment;
using goro_bench::EmitLine;
using goro_bench::NowNs;

using goro_bench::HashChunk;
using goro_bench::kChanIters;
using goro_bench::kContextIters;
using goro_bench::kFanOutChunks;
using goro_bench::kFanOutIters;
using goro_bench::kYieldIters;

constexpr std::size_t kFiberStackBytes = 16 * 1024;

// Goroutines in the spawn cases; --spawn_n (README: compare.py uses 100k, --full 1M).
int64_t spawn_n = 1'000'000;

boost::fibers::fixedsize_stack FiberStack() {
  return boost::fibers::fixedsize_stack(kFiberStackBytes);
}

template <typename Fn>
boost::fibers::fiber Spawn(Fn&& fn) {
  return boost::fibers::fiber(std::allocator_arg, FiberStack(), std::forward<Fn>(fn));
}

// WaitGroup is sync.WaitGroup for fibers: Done is one atomic decrement, and only the
// decrement to zero takes the mutex to wake the waiter.
class WaitGroup {
 public:
  void Add(int64_t n) { count_.fetch_add(n, std::memory_order_relaxed); }

  void Done() {
    // Release: the waiter's acquire load below sees every write made before Done.
    if (count_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::unique_lock<boost::fibers::mutex> lock(mu_);
      cv_.notify_all();
    }
  }

  void Wait() {
    std::unique_lock<boost::fibers::mutex> lock(mu_);
    cv_.wait(lock, [this] { return count_.load(std::memory_order_acquire) == 0; });
  }

 private:
  std::atomic<int64_t> count_{0};  // Atomic: see Done.
  boost::fibers::mutex mu_;
  boost::fibers::condition_variable cv_;
};

// --- Cases on the main thread (round_robin) -------------------------------------------

void BenchContextSwitch(int reps) {
  namespace ctx = boost::context;
  for (int r = 0; r < reps; ++r) {
    bool stop = false;
    ctx::fiber f(std::allocator_arg, ctx::fixedsize_stack(kFiberStackBytes),
                 [&stop](ctx::fiber&& sink) {
                   while (!stop) sink = std::move(sink).resume();
                   return std::move(sink);
                 });
    const int64_t t0 = NowNs();
    for (int64_t i = 0; i < kContextIters; ++i) f = std::move(f).resume();
    const int64_t t1 = NowNs();
    stop = true;
    f = std::move(f).resume();
    EmitLine("BM_Context_Switch", "switch", double(t1 - t0) / double(2 * kContextIters), "ns");
  }
}

void BenchYield(int reps) {
  for (int r = 0; r < reps; ++r) {
    auto body = [] {
      for (int64_t i = 0; i < kYieldIters; ++i) boost::this_fiber::yield();
    };
    const int64_t t0 = NowNs();
    boost::fibers::fiber a = Spawn(body);
    boost::fibers::fiber b = Spawn(body);
    a.join();
    b.join();
    const int64_t t1 = NowNs();
    EmitLine("BM_Yield_PingPong/procs:1", "yield", double(t1 - t0) / double(2 * kYieldIters),
             "ns");
  }
}

// ChanPingPongOnce: the calling fiber sends i on ping, a peer fiber echoes it on pong.
double ChanPingPongOnce() {
  boost::fibers::unbuffered_channel<int64_t> ping;
  boost::fibers::unbuffered_channel<int64_t> pong;
  const int64_t t0 = NowNs();
  boost::fibers::fiber peer = Spawn([&] {
    int64_t v = 0;
    while (ping.pop(v) == boost::fibers::channel_op_status::success) pong.push(v);
  });
  for (int64_t i = 0; i < kChanIters; ++i) {
    ping.push(i);
    int64_t v = 0;
    pong.pop(v);
    if (v != i) std::abort();
  }
  ping.close();
  peer.join();
  const int64_t t1 = NowNs();
  return double(t1 - t0) / double(kChanIters);
}

double SpawnJoinOnce() {
  WaitGroup wg;
  wg.Add(spawn_n);
  const int64_t t0 = NowNs();
  for (int64_t i = 0; i < spawn_n; ++i) Spawn([&wg] { wg.Done(); }).detach();
  wg.Wait();
  const int64_t t1 = NowNs();
  return double(t1 - t0) / double(spawn_n);
}

// ParkedOnce runs in a fresh process: 1M fibers each block on one unbuffered channel.
void ParkedOnce() {
  boost::fibers::unbuffered_channel<int> gate;
  int64_t started = 0;  // Owner: the main thread (all fibers run there).
  WaitGroup exited;
  exited.Add(spawn_n);
  const int64_t rss0 = goro_bench::ResidentBytes();
  const int64_t maps0 = goro_bench::CountMappings();
  const int64_t t0 = NowNs();
  for (int64_t i = 0; i < spawn_n; ++i) {
    Spawn([&] {
      ++started;
      int v = 0;
      gate.pop(v);  // parks until close()
      exited.Done();
    }).detach();
  }
  while (started < spawn_n) boost::this_fiber::yield();
  const int64_t t1 = NowNs();
  const int64_t rss1 = goro_bench::ResidentBytes();
  const int64_t maps1 = goro_bench::CountMappings();
  gate.close();
  exited.Wait();
  const std::string name = "BM_Spawn_Parked/n:" + std::to_string(spawn_n) + "/procs:1";
  EmitLine(name, "spawn_per_g", double(t1 - t0) / double(spawn_n), "ns");
  EmitLine(name, "rss_per_g", double(rss1 - rss0) / double(spawn_n), "B");
  EmitLine(name, "maps", double(maps1), "count");
  EmitLine(name, "maps_delta", double(maps1 - maps0), "count");
}

// --- Cases under work_stealing (child process, one per thread count) -------------------

double FanOutOnce(uint64_t* checksum) {
  std::vector<uint64_t> out(kFanOutChunks);
  WaitGroup wg;
  wg.Add(kFanOutChunks);
  const int64_t t0 = NowNs();
  for (int c = 0; c < kFanOutChunks; ++c) {
    Spawn([&out, &wg, c] {
      out[c] = HashChunk(static_cast<uint64_t>(c), kFanOutIters);
      wg.Done();
    }).detach();
  }
  wg.Wait();
  const int64_t t1 = NowNs();
  uint64_t sum = 0;
  for (uint64_t v : out) sum ^= v;
  *checksum = sum;
  return double(t1 - t0) / 1e6;
}

// WorkStealingChild installs work_stealing on `threads` threads (this one included) and
// runs the procs:all cases (threads > 1) and the fan-out, `reps` times each.
void WorkStealingChild(int threads, int reps) {
  boost::fibers::mutex mu;
  boost::fibers::condition_variable cv;
  bool stop = false;  // Guarded by mu.
  std::vector<std::thread> workers;
  for (int t = 1; t < threads; ++t) {
    workers.emplace_back([&] {
      boost::fibers::use_scheduling_algorithm<boost::fibers::algo::work_stealing>(threads);
      std::unique_lock<boost::fibers::mutex> lock(mu);
      cv.wait(lock, [&] { return stop; });
    });
  }
  boost::fibers::use_scheduling_algorithm<boost::fibers::algo::work_stealing>(threads);

  const std::string procs = threads == 1 ? "1" : "all";
  if (threads > 1) {
    for (int r = 0; r < reps; ++r) {
      EmitLine("BM_Chan_PingPong/procs:all", "round_trip", ChanPingPongOnce(), "ns");
    }
    for (int r = 0; r < std::min(reps, 3); ++r) {
      EmitLine("BM_Spawn_Join/n:" + std::to_string(spawn_n) + "/procs:all", "per_g",
               SpawnJoinOnce(), "ns");
    }
  }
  uint64_t checksum = 0;
  for (int r = 0; r < reps; ++r) {
    EmitLine("BM_FanOut_Hash/chunks:" + std::to_string(kFanOutChunks) + "/procs:" + procs,
             "wall", FanOutOnce(&checksum), "ms");
  }
  char note[64];
  std::snprintf(note, sizeof(note), "fanout_checksum=%016llx",
                static_cast<unsigned long long>(checksum));
  EmitComment(note);

  {
    std::unique_lock<boost::fibers::mutex> lock(mu);
    stop = true;
  }
  cv.notify_all();
  for (std::thread& w : workers) w.join();
}

// Forwards a child's lines and collects the values of one (name, metric).
std::vector<double> ForwardLines(const std::vector<std::string>& lines,
                                 const std::string& want_name) {
  std::vector<double> values;
  for (const std::string& line : lines) {
    std::printf("%s\n", line.c_str());
    std::string name, metric, unit;
    double value = 0;
    if (goro_bench::ParseLine(line, &name, &metric, &value, &unit) && name == want_name) {
      values.push_back(value);
    }
  }
  std::fflush(stdout);
  return values;
}

int Usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--reps=K] [--spawn_n=N]\n"
               "  prints name<TAB>metric<TAB>value<TAB>unit lines (bench/README.md);\n"
               "  the spawn cases use N goroutines (default 1000000) and run min(K, 3)\n"
               "  times; the others run K times (default 5).\n",
               argv0);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 5;
  int ws_threads = 0;    // > 0: work_stealing child
  bool parked = false;   // parked child
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--reps=", 7) == 0) {
      reps = std::atoi(argv[i] + 7);
    } else if (std::strncmp(argv[i], "--child-work-stealing=", 22) == 0) {
      ws_threads = std::atoi(argv[i] + 22);
    } else if (std::strncmp(argv[i], "--spawn_n=", 10) == 0) {
      spawn_n = std::atoll(argv[i] + 10);
    } else if (std::strcmp(argv[i], "--child-parked") == 0) {
      parked = true;
    } else {
      return Usage(argv[0]);
    }
  }
  if (reps < 1 || spawn_n < 1) return Usage(argv[0]);
  // glibc would hand the heap top back to the kernel once a repetition's fibers exit, so
  // every repetition would page-fault its stacks in again; Go's runtime keeps freed stacks
  // for reuse. Keeping the heap makes repetitions comparable (bench/README.md).
  mallopt(M_TRIM_THRESHOLD, -1);  // -1: never trim (mallopt(3))
  if (parked) {
    ParkedOnce();
    return 0;
  }
  if (ws_threads > 0) {
    WorkStealingChild(ws_threads, reps);
    return 0;
  }

  const int all = goro_bench::AllProcs();
  const int big_reps = std::min(reps, 3);
  char header[160];
  std::snprintf(header, sizeof(header),
                "impl=boost version=%d.%d.%d procs_all=%d fiber_stack=%zu reps=%d",
                BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000, BOOST_VERSION % 100, all,
                kFiberStackBytes, reps);
  EmitComment(header);

  BenchContextSwitch(reps);
  BenchYield(reps);
  for (int r = 0; r < reps; ++r) {
    EmitLine("BM_Chan_PingPong/procs:1", "round_trip", ChanPingPongOnce(), "ns");
  }
  for (int r = 0; r < big_reps; ++r) {
    EmitLine("BM_Spawn_Join/n:" + std::to_string(spawn_n) + "/procs:1", "per_g",
             SpawnJoinOnce(), "ns");
  }
  const std::string n_arg = "--spawn_n=" + std::to_string(spawn_n);
  for (int r = 0; r < big_reps; ++r) {
    ForwardLines(goro_bench::RunSelf({"--child-parked", n_arg}), "");
  }

  const std::string rep_arg = "--reps=" + std::to_string(reps);
  const std::string fan = "BM_FanOut_Hash/chunks:" + std::to_string(kFanOutChunks);
  const std::vector<double> wall1 = ForwardLines(
      goro_bench::RunSelf({"--child-work-stealing=1", rep_arg, n_arg}), fan + "/procs:1");
  const std::vector<double> wall_all = ForwardLines(
      goro_bench::RunSelf({"--child-work-stealing=" + std::to_string(all), rep_arg, n_arg}),
      fan + "/procs:" + std::string(all == 1 ? "1" : "all"));
  for (size_t r = 0; r < wall1.size() && r < wall_all.size(); ++r) {
    EmitLine(fan, "speedup", wall1[r] / wall_all[r], "x");
  }
  return 0;
}

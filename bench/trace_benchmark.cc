// The tracer's costs (goals in docs/benchmarks.md), measured as same-run ratios on one P:
//
//   BM_Trace_EventNoStack          one event without a stack (bracket + clock + encode)
//   BM_Trace_EventStack16          one event with a 16-frame stack (walk + intern + encode)
//   BM_Trace_PingPong/untraced     channel round trip, tracer compiled in but off
//   BM_Trace_PingPong/traced       the same while tracing, check off; ratio against untraced
//   BM_Trace_PingPong/checked      the same while tracing with tracecheckstackownership=1;
//                                  ratio against traced
//   BM_Trace_Yield/untraced        two goroutines yielding, tracer off
//   BM_Trace_BytesPerEvent         file bytes / events of a traced ping-pong
//   BM_Trace_Flight/pingpong       channel round trip with the flight recorder on (default
//                                  16 MiB window) and while tracing to a discarding
//                                  writer, back to back; flight_vs_traced is the ratio
//                                  (the flight recorder's goal: within 10%, i.e. <= 1.10x)
//   BM_Trace_Flight/yield          the same for two goroutines yielding
//   BM_Trace_Flight/snapshot       one WriteFlightSnapshot of the window to /dev/null
//
// Every repetition runs the compared variants back to back in a rotating order and the
// ratio is taken inside the repetition, so drift on this shared machine cancels out; the
// median, minimum and maximum over repetitions are printed. Traced variants write to a
// writer that counts and drops the bytes (Go's benchmarks trace into io.Discard), so the
// file system is not measured. The off-versus-compiled-out comparison needs two binaries:
// bench/trace_overhead.sh builds this one with and without --config=notrace and alternates
// them. Output lines: name<TAB>metric<TAB>value<TAB>unit (bench/peer_lines.h).
//
//   bazel run --config=opt //bench:trace_benchmark -- --reps=9

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "bench/goro_workloads.h"
#include "bench/peer_lines.h"
#include "debugvars/registry.h"
#include "runtime/chan.h"
#include "runtime/goro.h"
#include "runtime/sync.h"
#include "tracer/emit.h"
#include "tracer/flight_recorder.h"
#include "tracer/format.h"
#include "tracer/reader/reader.h"
#include "tracer/trace.h"

namespace {

using goro_bench::EmitLine;
using goro_bench::NowNs;

constexpr int64_t kEventIters = 200'000;
constexpr int64_t kPingPongIters = 100'000;
constexpr int64_t kYieldIters = 200'000;
constexpr int kStackFrames = 16;

int reps = 9;
std::string only;
std::atomic<uint64_t> discarded_bytes{0};

bool Wanted(const std::string& name) { return only.empty() || name.find(only) != std::string::npos; }

void Check(const absl::Status& st, const char* what) {
  if (!st.ok()) {
    std::fprintf(stderr, "trace_benchmark: %s: %s\n", what, st.ToString().c_str());
    std::exit(1);
  }
}

void SetCheck(bool on) {
  Check(goro::debugvars::Registry::Global().Set("tracecheckstackownership", on ? "1" : "0",
                                                "trace_benchmark"),
        "setting tracecheckstackownership");
}

void StartDiscarding() {
  Check(goro::trace::Start([](absl::string_view bytes) {
          discarded_bytes.fetch_add(bytes.size(), std::memory_order_relaxed);
          return absl::OkStatus();
        }),
        "goro::trace::Start");
}

void StopTracing() { Check(goro::trace::Stop(), "goro::trace::Stop"); }

// --- The workloads, each returning nanoseconds per operation ---------------------------

double PingPong() {
  goro::Chan<int64_t> ping = goro::MakeChan<int64_t>();
  goro::Chan<int64_t> pong = goro::MakeChan<int64_t>();
  goro::WaitGroup wg;
  wg.Add(1);
  goro::Go([ping, pong, &wg] {
    while (std::optional<int64_t> v = ping.Receive()) pong.Send(*v);
    wg.Done();
  });
  const int64_t t0 = NowNs();
  for (int64_t i = 0; i < kPingPongIters; ++i) {
    ping.Send(i);
    if (pong.Receive() != i) std::abort();
  }
  const int64_t t1 = NowNs();
  ping.Close();
  wg.Wait();
  return double(t1 - t0) / double(kPingPongIters);
}

// An event with no stack argument: STWEnd (bracket, clock read, one type byte and a time
// delta). The trace is never validated, so the unpaired event does not matter.
double EventNoStack() {
  const int64_t t0 = NowNs();
  for (int64_t i = 0; i < kEventIters; ++i) {
    goro::trace::internal::EventBracket bracket;
    bracket.STWEnd();
  }
  return double(NowNs() - t0) / double(kEventIters);
}

// GCBegin captures the current goroutine's stack; called `depth` frames below the
// goroutine's entry so that the captured stack has kStackFrames frames.
__attribute__((noinline)) double EventWithStackAt(int depth) {
  if (depth > 0) {
    double r = EventWithStackAt(depth - 1);
    asm volatile("" ::: "memory");  // keeps the recursion from becoming a loop or a tail call
    return r;
  }
  const int64_t t0 = NowNs();
  for (int64_t i = 0; i < kEventIters; ++i) {
    goro::trace::internal::EventBracket bracket;
    bracket.GCBegin(static_cast<uint64_t>(i));
  }
  return double(NowNs() - t0) / double(kEventIters);
}

// Runs fn on a fresh goroutine (so every measurement starts from the same stack depth)
// and waits for it.
double OnNewGoroutine(const std::function<double()>& fn) {
  double result = 0;
  goro::WaitGroup wg;
  wg.Add(1);
  goro::Go([&] {
    result = fn();
    wg.Done();
  });
  wg.Wait();
  return result;
}

// Reads the trace at `path` one generation at a time into `fn`, removes the file, and
// returns its size. Exits on a read error.
uint64_t ReadAndRemoveTrace(const std::string& path,
                            const std::function<void(const goro::trace::Generation&)>& fn) {
  auto reader = goro::trace::Reader::Open(path);
  Check(reader.status(), path.c_str());
  goro::trace::Generation gen;
  for (;;) {
    auto more = (*reader)->NextGeneration(&gen);
    Check(more.status(), path.c_str());
    if (!*more) break;
    fn(gen);
  }
  unlink(path.c_str());
  return (*reader)->offset();
}

// The recursion depth that gives a kStackFrames-frame GCBegin stack: traces one event at
// depth 0 into a file, reads back its stack length, and subtracts. Also checks the reader
// agrees the trace is well formed.
int DepthForStackFrames(const std::string& dir) {
  const std::string path = absl::StrCat(dir, "/trace_benchmark_depth.", getpid(), ".trace");
  Check(goro::trace::Start(path), "goro::trace::Start");
  OnNewGoroutine([] {
    goro::trace::internal::EventBracket bracket;
    bracket.GCBegin(0);
    return 0.0;
  });
  StopTracing();
  size_t frames = 0;
  ReadAndRemoveTrace(path, [&](const goro::trace::Generation& gen) {
    for (const goro::trace::Event& e : gen.events) {
      if (e.type != goro::trace::kEvGCBegin) continue;
      if (const auto* stack = gen.Stack(e.args[1])) frames = stack->size();
    }
  });
  if (frames == 0) {
    std::fprintf(stderr, "trace_benchmark: the depth probe's GCBegin has no stack\n");
    std::exit(1);
  }
  // EventWithStackAt(0) itself adds one frame compared with the probe's lambda.
  const int depth = kStackFrames - static_cast<int>(frames) - 1;
  return std::max(depth, 0);
}

// Bytes per event of a traced ping-pong, read back from a real file.
void BytesPerEvent(const std::string& dir) {
  const std::string path = absl::StrCat(dir, "/trace_benchmark_bytes.", getpid(), ".trace");
  Check(goro::trace::Start(path), "goro::trace::Start");
  PingPong();
  StopTracing();
  uint64_t events = 0;
  uint64_t with_stack = 0;
  const uint64_t bytes = ReadAndRemoveTrace(path, [&](const goro::trace::Generation& gen) {
    events += gen.events.size();
    for (const goro::trace::Event& e : gen.events) {
      with_stack += e.type == goro::trace::kEvGoBlock || e.type == goro::trace::kEvGoUnblock;
    }
  });
  EmitLine("BM_Trace_BytesPerEvent/pingpong", "bytes_per_event", double(bytes) / double(events),
           "B");
  EmitLine("BM_Trace_BytesPerEvent/pingpong", "events_per_round_trip",
           double(events) / double(kPingPongIters), "events");
  EmitLine("BM_Trace_BytesPerEvent/pingpong", "stacked_events_share",
           double(with_stack) / double(events), "ratio");
}

using goro_bench::EmitSummary;

void RunAll(const std::string& dir) {
  const bool compiled_out = !goro::trace::Start([](absl::string_view) { return absl::OkStatus(); }).ok();
  if (!compiled_out) StopTracing();

  // Off: what bench/trace_overhead.sh compares against the compiled-out build.
  if (Wanted("BM_Trace_PingPong/untraced") || Wanted("BM_Trace_Yield/untraced")) {
    std::vector<double> pp, y;
    for (int r = 0; r < reps; ++r) {
      if (Wanted("BM_Trace_PingPong/untraced")) pp.push_back(PingPong());
      if (Wanted("BM_Trace_Yield/untraced")) y.push_back(goro_bench::YieldPair(kYieldIters));
    }
    if (!pp.empty()) EmitSummary("BM_Trace_PingPong/untraced", "round_trip", pp, "ns");
    if (!y.empty()) EmitSummary("BM_Trace_Yield/untraced", "yield", y, "ns");
  }
  if (compiled_out) {
    std::printf("# tracer compiled out: only the untraced cases ran\n");
    return;
  }

  if (Wanted("BM_Trace_Event")) {
    const int depth = DepthForStackFrames(dir);
    std::vector<double> plain, stacked, stacked_checked;
    for (int r = 0; r < reps; ++r) {
      StartDiscarding();
      plain.push_back(OnNewGoroutine(EventNoStack));
      stacked.push_back(OnNewGoroutine([depth] { return EventWithStackAt(depth); }));
      SetCheck(true);
      stacked_checked.push_back(OnNewGoroutine([depth] { return EventWithStackAt(depth); }));
      SetCheck(false);
      StopTracing();
    }
    EmitSummary("BM_Trace_EventNoStack", "event", plain, "ns");
    EmitSummary("BM_Trace_EventStack16", "event", stacked, "ns");
    EmitSummary("BM_Trace_EventStack16/checked", "event", stacked_checked, "ns");
  }

  if (Wanted("BM_Trace_PingPong")) {
    std::vector<double> untraced, traced, checked, traced_ratio, checked_ratio;
    for (int r = 0; r < reps; ++r) {
      double u = 0, t = 0, c = 0;
      // Rotate the order so that no variant always runs first (warm caches) or last.
      for (int k = 0; k < 3; ++k) {
        switch ((r + k) % 3) {
          case 0:
            u = PingPong();
            break;
          case 1:
            StartDiscarding();
            t = PingPong();
            StopTracing();
            break;
          case 2:
            SetCheck(true);
            StartDiscarding();
            c = PingPong();
            StopTracing();
            SetCheck(false);
            break;
        }
      }
      untraced.push_back(u);
      traced.push_back(t);
      checked.push_back(c);
      traced_ratio.push_back(t / u);
      checked_ratio.push_back(c / t);
    }
    EmitSummary("BM_Trace_PingPong/untraced", "round_trip", untraced, "ns");
    EmitSummary("BM_Trace_PingPong/traced", "round_trip", traced, "ns");
    EmitSummary("BM_Trace_PingPong/checked", "round_trip", checked, "ns");
    EmitSummary("BM_Trace_PingPong/traced_vs_untraced", "ratio", traced_ratio, "x");
    EmitSummary("BM_Trace_PingPong/checked_vs_traced", "ratio", checked_ratio, "x");
  }

  if (Wanted("BM_Trace_BytesPerEvent")) BytesPerEvent(dir);

  if (Wanted("BM_Trace_Flight")) {
    // The flight recorder against ordinary tracing into a discarding writer: the same
    // emission, a different sink (an in-memory window of generations, cut early at a
    // quarter of the bound, instead of a writer call per batch).
    std::vector<double> traced, flight, ratio, y_traced, y_flight, y_ratio, snapshot_ms;
    const int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    for (int r = 0; r < reps; ++r) {
      double t = 0, f = 0, yt = 0, yf = 0;
      for (int k = 0; k < 2; ++k) {
        if ((r + k) % 2 == 0) {
          StartDiscarding();
          t = PingPong();
          yt = goro_bench::YieldPair(kYieldIters);
          StopTracing();
        } else {
          Check(goro::trace::StartFlightRecorder(goro::trace::FlightRecorderOptions{}),
                "goro::trace::StartFlightRecorder");
          f = PingPong();
          yf = goro_bench::YieldPair(kYieldIters);
          const int64_t s0 = NowNs();
          Check(goro::trace::WriteFlightSnapshot(devnull), "goro::trace::WriteFlightSnapshot");
          snapshot_ms.push_back(double(NowNs() - s0) / 1e6);
          Check(goro::trace::StopFlightRecorder(), "goro::trace::StopFlightRecorder");
        }
      }
      traced.push_back(t);
      flight.push_back(f);
      ratio.push_back(f / t);
      y_traced.push_back(yt);
      y_flight.push_back(yf);
      y_ratio.push_back(yf / yt);
    }
    close(devnull);
    EmitSummary("BM_Trace_Flight/pingpong_traced", "round_trip", traced, "ns");
    EmitSummary("BM_Trace_Flight/pingpong_flight", "round_trip", flight, "ns");
    EmitSummary("BM_Trace_Flight/pingpong_flight_vs_traced", "ratio", ratio, "x");
    EmitSummary("BM_Trace_Flight/yield_traced", "yield", y_traced, "ns");
    EmitSummary("BM_Trace_Flight/yield_flight", "yield", y_flight, "ns");
    EmitSummary("BM_Trace_Flight/yield_flight_vs_traced", "ratio", y_ratio, "x");
    EmitSummary("BM_Trace_Flight/snapshot", "write", snapshot_ms, "ms");
  }
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--reps=", 0) == 0) {
      if (!absl::SimpleAtoi(arg.substr(7), &reps) || reps < 1) {
        std::fprintf(stderr, "trace_benchmark: bad --reps: %s\n", arg.c_str());
        return 2;
      }
    } else if (arg.rfind("--only=", 0) == 0) {
      only = arg.substr(7);
    } else {
      std::fprintf(stderr, "usage: trace_benchmark [--reps=N] [--only=SUBSTRING]\n");
      return 2;
    }
  }
  const char* tmp = std::getenv("TMPDIR");
  const std::string dir = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  goro::RunOptions options;
  options.procs = 1;
  options.stack_bytes = 1 << 20;
  goro::Run([&] { RunAll(dir); }, options);
  return 0;
}

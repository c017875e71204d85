// Small goro traces, built with the test encoder, that would break one of Go 1.19's parser or
// `go tool trace` invariants if the go119 export copied them naively: a goroutine still
// running at the end, unpaired GC and STW events, empty or zero-PC start stacks, user
// regions and tasks without a goroutine or a begin, blocking calls across the trace start,
// generations whose times overlap. Used by go119_export_unit_test and, through
// go119_edge_traces.cc, by go119_export_test.sh, which feeds their exports to Go's tools.

#ifndef GORO_TESTS_GO119_EDGE_TRACES_H_
#define GORO_TESTS_GO119_EDGE_TRACES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "tracer/format.h"
#include "tracer/reader/test_encoder.h"

namespace goro::testing_internal {

// One edge-case trace: a file name stem and the file's bytes.
struct EdgeTrace {
  std::string name;
  std::string bytes;
};

namespace go119_edge_internal {

using trace::testing::TraceEncoder;

inline constexpr uint64_t kGRunnable = static_cast<uint64_t>(trace::GoStatus::kRunnable);
inline constexpr uint64_t kGRunning = static_cast<uint64_t>(trace::GoStatus::kRunning);
inline constexpr uint64_t kGSyscall = static_cast<uint64_t>(trace::GoStatus::kSyscall);
inline constexpr uint64_t kGWaiting = static_cast<uint64_t>(trace::GoStatus::kWaiting);
inline constexpr uint64_t kPRunning = static_cast<uint64_t>(trace::ProcStatus::kRunning);
inline constexpr uint64_t kPSyscall = static_cast<uint64_t>(trace::ProcStatus::kSyscall);

// The structural batch every case starts a generation with: strings 1..4 and stacks
// 1 (main.main), 2 (main.worker, the start function), 3 (two frames: a channel receive in
// main.main), 4 (a frame with PC 0).
inline void Tables(TraceEncoder& enc, uint64_t gen) {
  enc.Batch(gen, 0, 0);
  enc.String(1, "main.main");
  enc.String(2, "main.go");
  enc.String(3, "main.worker");
  enc.String(4, "region");
  enc.Stack(1, {{0x401000, 1, 2, 10}});
  enc.Stack(2, {{0x402000, 3, 2, 20}});
  enc.Stack(3, {{0x403000, 4, 2, 30}, {0x401010, 1, 2, 11}});
  enc.Stack(4, {{0, 3, 2, 0}});
}

inline uint64_t Reason(trace::BlockReason r) { return static_cast<uint64_t>(r); }

}  // namespace go119_edge_internal

// goro::testing_internal::Go119EdgeTraces returns every edge-case trace.
inline std::vector<EdgeTrace> Go119EdgeTraces() {
  using namespace go119_edge_internal;  // NOLINT(build/namespaces): test-only helper names
  using trace::BlockReason;
  std::vector<EdgeTrace> out;

  {  // Goroutines still running when the trace ends, one on an M whose P is never named.
    TraceEncoder enc;
    Tables(enc, 1);
    enc.Batch(1, 1, 1000);
    enc.Ev(trace::kEvProcStatus, 1000, {0, kPRunning});
    enc.Ev(trace::kEvGoCreate, 1100, {17, 1, 2});
    enc.Ev(trace::kEvGoStart, 1200, {17});
    enc.Batch(1, 2, 1000);
    enc.Ev(trace::kEvGoStatus, 1050, {5, 2, kGRunning});
    enc.Ev(trace::kEvGoCreate, 1150, {6, 1, 2});
    enc.Batch(1, 0, 0);
    enc.EndOfGeneration();
    out.push_back({"unmatched_go_start", enc.Finish()});
  }

  {  // GC and STW ends without begins, begins without ends, overlapping and odd-kind pauses.
    TraceEncoder enc;
    Tables(enc, 1);
    enc.Batch(1, 1, 1000);
    enc.Ev(trace::kEvGCEnd, 1000, {3});
    enc.Ev(trace::kEvSTWEnd, 1010, {});
    enc.Ev(trace::kEvGCBegin, 1100, {4, 1});
    enc.Ev(trace::kEvSTWBegin, 1200, {static_cast<uint64_t>(trace::STWKind::kGC), 1});
    enc.Ev(trace::kEvSTWEnd, 1300, {});
    enc.Ev(trace::kEvSTWBegin, 1400, {static_cast<uint64_t>(trace::STWKind::kForTest), 0});
    enc.Batch(1, 2, 1000);
    enc.Ev(trace::kEvSTWBegin, 1450, {static_cast<uint64_t>(trace::STWKind::kStartTrace), 0});
    enc.Ev(trace::kEvSTWEnd, 1460, {});
    enc.Batch(1, 0, 0);
    enc.EndOfGeneration();
    out.push_back({"unpaired_gc_and_stw", enc.Finish()});
  }

  {  // Start stacks that are empty or have PC 0.
    TraceEncoder enc;
    Tables(enc, 1);
    enc.Ev(trace::kEvGoStatus, 900, {20, 0, kGWaiting});
    enc.Ev(trace::kEvGoStatusStack, 900, {21, 0, kGRunnable, 4});
    enc.Ev(trace::kEvGoStatusStack, 900, {23, 0, kGWaiting, 3});
    enc.Batch(1, 1, 1000);
    enc.Ev(trace::kEvProcStatus, 1000, {0, kPRunning});
    enc.Ev(trace::kEvGoStatus, 1000, {1, 1, kGRunning});
    enc.Ev(trace::kEvGoCreate, 1100, {22, 1, 0});
    enc.Ev(trace::kEvGoUnblock, 1150, {20, 1});
    enc.Ev(trace::kEvGoBlock, 1200, {Reason(BlockReason::kChanRecv), 3});
    enc.Ev(trace::kEvGoStart, 1300, {22});
    enc.Ev(trace::kEvGoDestroy, 1400, {});
    enc.Ev(trace::kEvGoStart, 1500, {21});
    enc.Ev(trace::kEvGoDestroy, 1600, {});
    enc.Ev(trace::kEvGoStart, 1700, {20});
    enc.Ev(trace::kEvGoDestroy, 1800, {});
    enc.Batch(1, 0, 0);
    enc.EndOfGeneration();
    out.push_back({"empty_start_stacks", enc.Finish()});
  }

  {  // Regions and tasks: an end without a begin, an empty stack, a mismatched end, a task id
     // used twice, annotations from an M that runs no goroutine.
    TraceEncoder enc;
    Tables(enc, 1);
    enc.Batch(1, 1, 1000);
    enc.Ev(trace::kEvProcStatus, 1000, {0, kPRunning});
    enc.Ev(trace::kEvGoStatus, 1000, {1, 1, kGRunning});
    enc.Ev(trace::kEvUserRegionEnd, 1010, {0, 4, 1});
    enc.Ev(trace::kEvUserTaskBegin, 1020, {7, 0, 3, 1});
    enc.Ev(trace::kEvUserTaskBegin, 1030, {7, 0, 3, 1});
    enc.Ev(trace::kEvUserRegionBegin, 1040, {7, 4, 0});
    enc.Ev(trace::kEvUserRegionEnd, 1050, {7, 1, 1});
    enc.Ev(trace::kEvUserRegionEnd, 1060, {7, 4, 1});
    enc.Ev(trace::kEvUserLog, 1070, {7, 4, 1, 1});
    enc.Ev(trace::kEvUserTaskEnd, 1080, {7, 1});
    enc.Ev(trace::kEvUserTaskEnd, 1090, {8, 1});
    enc.Batch(1, 2, 1000);
    enc.Ev(trace::kEvUserLog, 1045, {7, 4, 1, 1});
    enc.Ev(trace::kEvUserRegionBegin, 1055, {7, 4, 1});
    enc.Ev(trace::kEvUserTaskBegin, 1065, {9, 0, 3, 1});
    enc.Batch(1, 0, 0);
    enc.EndOfGeneration();
    out.push_back({"annotation_edges", enc.Finish()});
  }

  {  // Blocking calls: one in progress at the start with its P, stolen, returning blocked;
     // one at the start without a P, returning with one; one whose steal is not traced.
    TraceEncoder enc;
    Tables(enc, 1);
    enc.Batch(1, 1, 1000);
    enc.Ev(trace::kEvProcStatus, 1000, {0, kPSyscall});
    enc.Ev(trace::kEvGoStatus, 1000, {1, 1, kGSyscall});
    enc.Batch(1, 2, 1000);
    enc.Ev(trace::kEvProcSteal, 1100, {0, 1});
    enc.Ev(trace::kEvProcStart, 1110, {0});
    enc.Ev(trace::kEvProcStop, 1120, {});
    enc.Batch(1, 1, 1200);
    enc.Ev(trace::kEvGoSyscallEndBlocked, 1200, {});
    enc.Batch(1, 3, 1000);
    enc.Ev(trace::kEvGoStatus, 1001, {2, 3, kGSyscall});
    enc.Ev(trace::kEvGoSyscallEnd, 1300, {});
    enc.Ev(trace::kEvGoDestroy, 1400, {});
    enc.Batch(1, 4, 1000);
    enc.Ev(trace::kEvProcStatus, 1002, {1, kPRunning});
    enc.Ev(trace::kEvGoStatus, 1002, {3, 4, kGRunning});
    enc.Ev(trace::kEvGoSyscallBegin, 1500, {1});
    enc.Ev(trace::kEvGoSyscallEndBlocked, 1600, {});
    enc.Batch(1, 0, 0);
    enc.EndOfGeneration();
    out.push_back({"syscall_edges", enc.Finish()});
  }

  {  // Two generations whose times overlap (the second starts before the first ends), a
     // goroutine running across the boundary, and a StackShrink.
    TraceEncoder enc;
    Tables(enc, 1);
    enc.Batch(1, 1, 5000);
    enc.Ev(trace::kEvProcStatus, 5000, {0, kPRunning});
    enc.Ev(trace::kEvGoStatus, 5000, {1, 1, kGRunning});
    enc.Ev(trace::kEvGoCreate, 5100, {17, 1, 2});
    enc.Ev(trace::kEvStackShrink, 5150, {1, 8192, 4096});
    enc.Ev(trace::kEvGoBlock, 5200, {Reason(BlockReason::kSleep), 1});
    enc.Ev(trace::kEvGoStart, 5300, {17});
    enc.Batch(1, 0, 0);
    enc.EndOfGeneration();
    Tables(enc, 2);
    enc.Ev(trace::kEvGoStatusStack, 4000, {1, 0, kGWaiting, 3});
    enc.Batch(2, 1, 4000);
    enc.Ev(trace::kEvProcStatus, 4000, {0, kPRunning});
    enc.Ev(trace::kEvGoStatus, 4000, {17, 1, kGRunning});
    enc.Ev(trace::kEvGoUnblock, 4100, {1, 1});
    enc.Ev(trace::kEvGoBlock, 4200, {Reason(BlockReason::kSelect), 3});
    enc.Ev(trace::kEvGoStart, 4300, {1});
    enc.Ev(trace::kEvGoDestroy, 4400, {});
    enc.Batch(2, 0, 0);
    enc.EndOfGeneration();
    out.push_back({"overlapping_generations", enc.Finish()});
  }

  {  // Events that contradict the state: unblocking an unknown goroutine, starting a Waiting
     // one, a GoDestroy on an M that runs nothing, a second GoCreate of a live goroutine.
    TraceEncoder enc;
    Tables(enc, 1);
    enc.Ev(trace::kEvGoStatus, 900, {30, 0, kGWaiting});
    enc.Batch(1, 1, 1000);
    enc.Ev(trace::kEvProcStatus, 1000, {0, kPRunning});
    enc.Ev(trace::kEvGoStatus, 1000, {1, 1, kGRunning});
    enc.Ev(trace::kEvGoUnblock, 1100, {99, 1});
    enc.Ev(trace::kEvGoCreate, 1150, {1, 1, 2});
    enc.Ev(trace::kEvGoBlock, 1200, {Reason(BlockReason::kSync), 1});
    enc.Ev(trace::kEvGoStart, 1300, {30});
    enc.Ev(trace::kEvGoDestroy, 1400, {});
    enc.Ev(trace::kEvGoDestroy, 1500, {});
    enc.Batch(1, 0, 0);
    enc.EndOfGeneration();
    out.push_back({"contradictions", enc.Finish()});
  }
  return out;
}

}  // namespace goro::testing_internal

#endif  // GORO_TESTS_GO119_EDGE_TRACES_H_

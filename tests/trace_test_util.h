// Helpers for the trace suite: run a workload under goro::Run with tracing on, then read
// the trace back, validate every generation, check that Go 1.19's tools accept its go119
// export (tests/go119_check.h), and hand the events to the test.

#ifndef GORO_TESTS_TRACE_TEST_UTIL_H_
#define GORO_TESTS_TRACE_TEST_UTIL_H_

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "runtime/chan.h"
#include "runtime/goro.h"
#include "tests/go119_check.h"
#include "tests/goroutine_test_util.h"
#include "tracer/format.h"
#include "tracer/reader/reader.h"
#include "tracer/reader/validator.h"
#include "tracer/trace.h"

namespace goro::testing_internal {

// PingPong: `rounds` round trips over two unbuffered channels with a goroutine it starts,
// which then ends: channel blocks, unblocks and a GoCreate/GoDestroy for the traces.
// Precondition: called from a goroutine.
inline void PingPong(int rounds) {
  Chan<int> ping(0), pong(0);
  Go([ping, pong, rounds]() mutable {
    for (int i = 0; i < rounds; ++i) {
      int v = 0;
      ping.Receive(&v);
      pong.Send(v + 1);
    }
  });
  for (int i = 0; i < rounds; ++i) {
    ping.Send(i);
    int v = 0;
    pong.Receive(&v);
  }
}

// One event with the strings and stack frames it refers to resolved.
struct TracedEvent {
  trace::Event event;
  std::vector<std::string> stack_funcs;  // functions of the stack argument, innermost first
};

// What ReadAndValidate keeps besides counts: every event with its stack resolved, or
// only the counts (for traces of millions of events, where keeping them all would cost
// more than the workload).
enum class KeepEvents { kAll, kCountsOnly };

// Everything a traced run produced.
struct TraceResult {
  uint64_t generations = 0;
  int64_t event_count = 0;
  std::vector<TracedEvent> events;  // empty with KeepEvents::kCountsOnly
  std::array<int64_t, 256> counts{};        // by event type
  std::array<int64_t, 256> block_counts{};  // GoBlock events by reason
  // The reader's merge across Ms (trace::Generation::reorders), summed over generations,
  // and the largest time difference among them.
  uint64_t reorders = 0;
  uint64_t max_reorder_ns = 0;

  int64_t Count(uint8_t type) const { return counts[type]; }
  int64_t CountBlocks(trace::BlockReason reason) const {
    return block_counts[static_cast<uint8_t>(reason)];
  }
};

// Index of the stack argument of an event type, or -1.
inline int StackArg(uint8_t type) {
  switch (type) {
    case trace::kEvGoCreate:
    case trace::kEvGoUnblock:
    case trace::kEvGoStop:
    case trace::kEvGoBlock:
    case trace::kEvSTWBegin:
    case trace::kEvGCBegin:
      return 1;
    case trace::kEvGoSyscallBegin:
      return 0;
    case trace::kEvUserTaskBegin:
    case trace::kEvUserLog:
      return 3;
    case trace::kEvGoStatusStack:
      return 3;
    case trace::kEvUserTaskEnd:
      return 1;
    case trace::kEvUserRegionBegin:
    case trace::kEvUserRegionEnd:
      return 2;
    default:
      return -1;
  }
}

// Reads and validates the trace at `path`, then exports it to Go 1.19's format and has
// `go tool trace -d` parse that (ExpectGo119ExportAccepted). Every failure is a test failure.
inline TraceResult ReadAndValidate(const std::string& path, KeepEvents keep = KeepEvents::kAll) {
  TraceResult result;
  auto reader = trace::Reader::Open(path);
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return result;
  for (;;) {
    trace::Generation gen;
    absl::StatusOr<bool> more = (*reader)->NextGeneration(&gen);
    EXPECT_TRUE(more.ok()) << more.status();
    if (!more.ok() || !*more) break;
    result.generations++;
    absl::Status valid = trace::ValidateGeneration(gen);
    EXPECT_TRUE(valid.ok()) << valid;
    result.reorders += gen.reorders;
    result.max_reorder_ns = std::max(result.max_reorder_ns, gen.max_reorder_ns);
    for (const trace::Event& ev : gen.events) {
      result.event_count++;
      result.counts[ev.type]++;
      if (ev.type == trace::kEvGoBlock) result.block_counts[ev.args[0] & 0xff]++;
      if (keep == KeepEvents::kCountsOnly) continue;
      TracedEvent te{ev, {}};
      const int arg = StackArg(ev.type);
      if (arg >= 0 && arg < ev.nargs) {
        if (const auto* frames = gen.Stack(ev.args[arg])) {
          for (const trace::Frame& f : *frames) te.stack_funcs.push_back(f.func);
        }
      }
      result.events.push_back(std::move(te));
    }
  }
  if (!::testing::Test::HasFailure()) ExpectGo119ExportAccepted(path, result.event_count);
  return result;
}

// A fresh path for a trace file in the test's temporary directory.
inline std::string TempTracePath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name + "." +
         std::to_string(getpid()) + ".trace";
}

// Runs f() as main on `procs` Ps with tracing on around it, then reads the trace back.
template <typename F>
TraceResult TraceWorkload(int procs, const std::string& name, F&& f,
                          KeepEvents keep = KeepEvents::kAll) {
  const std::string path = TempTracePath(name);
  RunGoroutines(procs, [&] {
    absl::Status started = trace::Start(path);
    ASSERT_TRUE(started.ok()) << started;
    f();
    AwaitGoroutineCount(1);
    absl::Status stopped = trace::Stop();
    ASSERT_TRUE(stopped.ok()) << stopped;
  });
  TraceResult result = ReadAndValidate(path, keep);
  unlink(path.c_str());
  return result;
}

}  // namespace goro::testing_internal

#endif  // GORO_TESTS_TRACE_TEST_UTIL_H_

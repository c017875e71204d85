// The collector: a cycle reclaims the stack pages parked goroutines no longer use
// and gcshrinkstackoff prevents it; each IsShrinkStackSafe reason defers the shrink to the
// goroutine's next safe point; gctrace, the root hook, the automatic triggers, and the GC
// events in a validated trace. Runs with tracecheckstackownership=1 (BUILD.bazel).

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "debugvars/registry.h"
#include "gc/gc.h"
#include "gc/pacer.h"
#include "gc/shrink.h"
#include "gtest/gtest.h"
#include "runtime/arch/sanitizer.h"
#include "runtime/chan.h"
#include "runtime/g.h"
#include "runtime/g_status.h"
#include "runtime/goro.h"
#include "runtime/park.h"
#include "runtime/sched.h"
#include "runtime/settings.h"
#include "runtime/stack.h"
#include "runtime/sync.h"
#include "tests/goroutine_test_util.h"
#include "tests/trace_test_util.h"
#include "tracer/format.h"
#include "tracer/trace.h"

namespace goro {
namespace {

using testing_internal::RunGoroutines;

debugvars::Registry& Settings() { return debugvars::Registry::Global(); }

// Sets a live setting for one test and restores the default afterwards.
class ScopedSetting {
 public:
  ScopedSetting(const char* name, const char* value, const char* restore)
      : name_(name), restore_(restore) {
    EXPECT_TRUE(Settings().Set(name, value, "gc_test").ok());
  }
  ~ScopedSetting() { EXPECT_TRUE(Settings().Set(name_, restore_, "gc_test").ok()); }

 private:
  const char* name_;
  const char* restore_;
};

// Resident set size of the process, from /proc/self/statm (second field, in pages).
int64_t RssBytes() {
  FILE* f = fopen("/proc/self/statm", "r");
  if (f == nullptr) return -1;
  long size = 0, resident = 0;
  const int n = fscanf(f, "%ld %ld", &size, &resident);
  fclose(f);
  return n == 2 ? resident * sysconf(_SC_PAGESIZE) : -1;
}

// Recurses `depth` frames of about 1 KiB each, writing to every frame so that its pages
// are committed, and returns a value that depends on all of them.
ABSL_ATTRIBUTE_NOINLINE int TouchStack(int depth) {
  volatile char frame[1024];
  for (int i = 0; i < 1024; i += 256) frame[i] = static_cast<char>(depth + i);
  if (depth == 0) return frame[0];
  return TouchStack(depth - 1) + frame[512];
}

// Resident bytes of g's stack below the release line of its saved SP (what a shrink gives
// back).
size_t ResidentBelowSavedSp(const G* g) {
  size_t below = 0;
  ResidentStackBytes(*g->stack, StackReleaseEnd(*g->stack, g->context.SavedSp()), &below);
  return below;
}

TEST(GcTest, CollectOutsideAGoroutineFails) {
  absl::StatusOr<gc::CycleStats> st = gc::Collect();
  EXPECT_EQ(st.status().code(), absl::StatusCode::kFailedPrecondition) << st.status();
  EXPECT_EQ(gc::CommittedStackBytes().status().code(), absl::StatusCode::kFailedPrecondition);
}

// 10,000 goroutines (4,000 under TSan) each recurse ~48 KiB deep, return and park; a cycle gives those pages
// back (RSS falls back close to where it was before they recursed), and with
// gcshrinkstackoff=1 it does not.
// ThreadSanitizer counts every goroutine (a fiber) against its limit of 8128 threads.
constexpr int kDeepGoroutines = GORO_TSAN ? 4000 : 10000;

void DeepStacksThenCollect(bool shrink_off, int64_t* baseline, int64_t* peak, int64_t* after,
                           gc::CycleStats* stats) {
  constexpr int kGoroutines = kDeepGoroutines;
  constexpr int kDepth = 48;
  // Only the explicit cycles below: the stack goal would otherwise start one on its own.
  ScopedSetting no_goal("gcstackpercent", "-1", "100");
  RunGoroutines(2, [&] {
    Chan<int> release(0);
    WaitGroup parked;
    // The goroutines first park once without recursing, so the baseline includes their
    // stacks' tops and the runtime's own memory.
    Chan<int> go_deep(0);
    parked.Add(kGoroutines);
    for (int i = 0; i < kGoroutines; ++i) {
      Go([release, go_deep, &parked]() mutable {
        parked.Done();
        go_deep.Receive();
        volatile int sink = TouchStack(kDepth);
        (void)sink;
        release.Receive();
      });
    }
    parked.Wait();
    ASSERT_TRUE(gc::Collect().ok());
    *baseline = RssBytes();
    for (int i = 0; i < kGoroutines; ++i) go_deep.Send(i);
    // Wait until all are parked on `release` again.
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    int64_t waiting = 0;
    while (absl::Now() < deadline) {
      waiting = 0;
      {
        // Released before Yield: a runtime lock is never held across a switch (the
        // goroutine may resume on another M; lockrankcheck caught this).
        base_internal::OsMutexLock lock(&runtime_internal::sched()->allg_mu);
        for (G* g : runtime_internal::sched()->allgs) {
          if ((ReadGStatus(g) & ~uint32_t{kGScan}) == kGWaiting &&
              g->wait_reason.load() == WaitReason::kChanReceive)
            ++waiting;
        }
      }
      if (waiting >= kGoroutines) break;
      Yield();
    }
    ASSERT_GE(waiting, kGoroutines);
    *peak = RssBytes();
    ScopedSetting off("gcshrinkstackoff", shrink_off ? "1" : "0", "0");
    absl::StatusOr<gc::CycleStats> st = gc::Collect();
    ASSERT_TRUE(st.ok()) << st.status();
    *stats = *st;
    *after = RssBytes();
    release.Close();
  });
}

TEST(GcTest, CycleReclaimsStacksOfGoroutinesThatRecursedAndParked) {
  int64_t baseline = 0, peak = 0, after = 0;
  gc::CycleStats st;
  DeepStacksThenCollect(/*shrink_off=*/false, &baseline, &peak, &after, &st);
  const int64_t grown = peak - baseline;
  std::printf("RSS baseline %ld KiB, after recursing %ld KiB, after the cycle %ld KiB; "
              "%ld shrinks, %lu KiB released, committed %lu -> %lu KiB\n",
              static_cast<long>(baseline / 1024), static_cast<long>(peak / 1024),
              static_cast<long>(after / 1024), static_cast<long>(st.shrinks),
              static_cast<unsigned long>(st.released_bytes / 1024),
              static_cast<unsigned long>(st.committed_before / 1024),
              static_cast<unsigned long>(st.committed_after / 1024));
  // 10,000 x ~48 KiB must have shown up, and at least 80% of it must be gone again.
  ASSERT_GT(grown, int64_t{kDeepGoroutines} * 32 * 1024);
  EXPECT_GE(st.shrinks, kDeepGoroutines);
  EXPECT_LT(st.committed_after, st.committed_before / 2);
  EXPECT_GE(st.goroutines_scanned, kDeepGoroutines + 1);
  // ThreadSanitizer's shadow of the released pages stays resident, so under it the RSS
  // cannot come back; the committed figures above are the stacks' own.
  if (!GORO_TSAN) {
    EXPECT_LT(after - baseline, grown / 5);
  }
}

TEST(GcTest, GcShrinkStackOffKeepsThePages) {
  int64_t baseline = 0, peak = 0, after = 0;
  gc::CycleStats st;
  DeepStacksThenCollect(/*shrink_off=*/true, &baseline, &peak, &after, &st);
  const int64_t grown = peak - baseline;
  ASSERT_GT(grown, int64_t{kDeepGoroutines} * 32 * 1024);
  EXPECT_GT(after - baseline, grown * 4 / 5);
  EXPECT_GT(st.committed_after, st.committed_before * 4 / 5);
  EXPECT_EQ(st.shrinks, 0);
  EXPECT_EQ(st.released_bytes, 0u);
}

// A goroutine in a blocking call is never shrunk: its callee's frames lie below the SP it
// saved when it last switched. The shrink is deferred and done at its next safe point.
TEST(GcTest, BlockingCallDefersTheShrinkToTheNextSafePoint) {
  RunGoroutines(2, [] {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    std::atomic<G*> reader{nullptr};
    std::atomic<bool> intact{false};
    WaitGroup done;
    done.Add(1);
    Go([&] {
      reader = runtime_internal::CurrentG();
      // Park once after recursing, so the saved SP sits high with pages below it.
      volatile int sink = TouchStack(48);
      (void)sink;
      Yield();
      BlockingCall([&] {
        // A deep frame below the saved SP, filled before the cycle and checked after.
        volatile char deep[32 * 1024];
        for (size_t i = 0; i < sizeof(deep); i += 512) deep[i] = static_cast<char>(i / 512 + 1);
        char c;
        EXPECT_EQ(read(fds[0], &c, 1), 1);
        bool ok = true;
        for (size_t i = 0; i < sizeof(deep); i += 512) ok &= deep[i] == static_cast<char>(i / 512 + 1);
        intact = ok;
        return 0;
      });
      Yield();  // a safe point: the deferred shrink happens here
      done.Done();
    });
    while (reader.load() == nullptr || (ReadGStatus(reader) & ~uint32_t{kGScan}) != kGSyscall) {
      Sleep(absl::Microseconds(200));
    }
    const int64_t done_before = gc::DeferredShrinksDone();
    absl::StatusOr<gc::CycleStats> st = gc::Collect();
    ASSERT_TRUE(st.ok());
    EXPECT_GE(st->shrinks_deferred, 1);
    EXPECT_TRUE(reader.load()->preempt_shrink.load());
    char c = 'x';
    ASSERT_EQ(write(fds[1], &c, 1), 1);
    done.Wait();
    EXPECT_TRUE(intact.load()) << "the blocking call's frames were released";
    EXPECT_GT(gc::DeferredShrinksDone(), done_before);
    EXPECT_FALSE(reader.load()->preempt_shrink.load());
    close(fds[0]);
    close(fds[1]);
  });
}

// The parking window of a channel operation: a goroutine whose parking_on_chan is set is
// not shrunk, and is once it is clear.
TEST(GcTest, ParkingOnAChannelDefersTheShrink) {
  RunGoroutines(1, [] {
    Chan<int> c(0);
    std::atomic<G*> parked{nullptr};
    Go([&] {
      parked = runtime_internal::CurrentG();
      volatile int sink = TouchStack(48);
      (void)sink;
      c.Receive();
    });
    while (parked.load() == nullptr || (ReadGStatus(parked) & ~uint32_t{kGScan}) != kGWaiting) {
      Yield();
    }
    // Hold the scan bit, as the collector does (from the scheduler stack, Waiting for GC,
    // since a Running goroutine may not suspend another), and ask the shrinker directly.
    runtime_internal::CallOnSchedulerStackWaitingForGC(
        WaitReason::kGarbageCollection,
        [](void* arg) {
          G* g = static_cast<G*>(arg);
          SuspendGState held = SuspendG(g);
          ASSERT_FALSE(held.dead);
          g->parking_on_chan.store(true);
          gc_internal::ShrinkResult r = gc_internal::ShrinkStack(g);
          EXPECT_EQ(r.outcome, gc_internal::ShrinkOutcome::kDeferred);
          EXPECT_STREQ(r.why_deferred, "parking on a channel");
          EXPECT_TRUE(g->preempt_shrink.load());
          EXPECT_GT(ResidentBelowSavedSp(g), 0u);
          g->parking_on_chan.store(false);
          r = gc_internal::ShrinkStack(g);
          EXPECT_EQ(r.outcome, gc_internal::ShrinkOutcome::kShrunk);
          EXPECT_LT(r.after, r.before);
          EXPECT_EQ(ResidentBelowSavedSp(g), 0u);
          g->preempt_shrink.store(false);
          ResumeG(held);
        },
        parked.load());
    c.Send(1);
  });
}

// While tracing, the collector's own goroutine (Waiting for GC on its scheduler stack) is
// not shrunk during the cycle; it shrinks itself at its next safe point. With the rule
// removed through the test switch, the cycle shrinks it at once. Either way the trace is
// valid and the ownership check (on in this suite) never fires: in goro a shrink only
// releases pages below the saved SP, and the tracer walks a Waiting-for-GC goroutine's
// frames above it (gc/shrink.h says why the rule is kept anyway).
void CollectorsOwnStackWhileTracing(bool rule, gc::CycleStats* stats, int64_t* deferred_done,
                                    testing_internal::TraceResult* trace) {
  const std::string path = testing_internal::TempTracePath(rule ? "gc_rule" : "gc_norule");
  gc_internal::SetShrinkTracingRuleForTest(rule);
  RunGoroutines(1, [&] {
    ASSERT_TRUE(trace::Start(path).ok());
    volatile int sink = TouchStack(64);
    (void)sink;
    const int64_t before = gc::DeferredShrinksDone();
    absl::StatusOr<gc::CycleStats> st = gc::Collect();
    ASSERT_TRUE(st.ok());
    *stats = *st;
    Yield();
    *deferred_done = gc::DeferredShrinksDone() - before;
    ASSERT_TRUE(trace::Stop().ok());
  });
  gc_internal::SetShrinkTracingRuleForTest(true);
  *trace = testing_internal::ReadAndValidate(path);
  unlink(path.c_str());
}

TEST(GcTest, WhileTracingTheCollectorsOwnShrinkWaitsForItsSafePoint) {
  gc::CycleStats st;
  int64_t deferred_done = 0;
  testing_internal::TraceResult tr;
  CollectorsOwnStackWhileTracing(/*rule=*/true, &st, &deferred_done, &tr);
  EXPECT_EQ(st.shrinks_deferred, 1);
  EXPECT_EQ(deferred_done, 1);
  EXPECT_EQ(tr.Count(trace::kEvGCBegin), 1);
  EXPECT_EQ(tr.Count(trace::kEvGCEnd), 1);
  EXPECT_GE(tr.Count(trace::kEvStackShrink), 1);
  // The deferred shrink is written by the goroutine's own M at its next switch to the
  // scheduler stack, after its self-scan: in a concurrent cycle that is the collector's
  // next batch or the stop of pause 2, so before the cycle's end.
  int64_t gc_begin = -1, gc_end = -1, shrink = -1;
  for (size_t i = 0; i < tr.events.size(); ++i) {
    if (tr.events[i].event.type == trace::kEvGCBegin) gc_begin = static_cast<int64_t>(i);
    if (tr.events[i].event.type == trace::kEvGCEnd) gc_end = static_cast<int64_t>(i);
    if (tr.events[i].event.type == trace::kEvStackShrink) shrink = static_cast<int64_t>(i);
  }
  EXPECT_GT(shrink, gc_begin);
  EXPECT_LT(shrink, gc_end);
}

TEST(GcTest, WithoutTheTracingRuleTheCycleShrinksItsOwnGoroutine) {
  gc::CycleStats st;
  int64_t deferred_done = 0;
  testing_internal::TraceResult tr;
  CollectorsOwnStackWhileTracing(/*rule=*/false, &st, &deferred_done, &tr);
  EXPECT_EQ(st.shrinks_deferred, 0);
  EXPECT_GE(st.shrinks, 1);
  EXPECT_EQ(deferred_done, 0);
  EXPECT_EQ(tr.Count(trace::kEvGCBegin), 1);
  EXPECT_GE(tr.Count(trace::kEvStackShrink), 1);
}

TEST(GcTest, GcTracePrintsOneLinePerCycleAndRefusals) {
  RunGoroutines(1, [] {
    ScopedSetting trace_level("gctrace", "2", "0");
    testing::internal::CaptureStderr();
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    std::atomic<bool> in_call{false};
    WaitGroup done;
    done.Add(1);
    Go([&] {
      BlockingCall([&] {
        in_call = true;
        char c;
        return read(fds[0], &c, 1);
      });
      done.Done();
    });
    // in_call is set inside the call, so the goroutine is in Syscall from here on.
    while (!in_call.load()) Sleep(absl::Microseconds(200));
    ASSERT_TRUE(gc::Collect().ok());
    ASSERT_TRUE(gc::Collect().ok());
    char c = 'x';
    ASSERT_EQ(write(fds[1], &c, 1), 1);
    done.Wait();
    close(fds[0]);
    close(fds[1]);
    const std::string err = testing::internal::GetCapturedStderr();
    const uint64_t n = gc::CyclesCompleted();
    EXPECT_TRUE(absl::StrContains(err, absl::StrCat("gc ", n - 1, " @"))) << err;
    EXPECT_TRUE(absl::StrContains(err, absl::StrCat("gc ", n, " @"))) << err;
    EXPECT_TRUE(absl::StrContains(err, "goroutines")) << err;
    EXPECT_TRUE(absl::StrContains(err, "KiB committed")) << err;
    EXPECT_TRUE(absl::StrContains(err, "explicit")) << err;
    EXPECT_TRUE(absl::StrContains(err, "shrink deferred (in a blocking call)")) << err;
  });
}

// The root hook sees each parked goroutine's live range, which holds its locals.
struct HookRecord {
  std::atomic<int64_t> calls{0};
  std::atomic<bool> found{false};
  int64_t goid = 0;
  uintptr_t local = 0;
};

void RecordRoots(void* arg, int64_t goid, uintptr_t sp, uintptr_t hi) {
  auto* rec = static_cast<HookRecord*>(arg);
  rec->calls++;
  if (goid == rec->goid && rec->local >= sp && rec->local < hi) rec->found = true;
}

TEST(GcTest, RootScanHookSeesTheLiveRangeOfEveryGoroutine) {
  HookRecord rec;
  RunGoroutines(2, [&] {
    Chan<int> c(0);
    std::atomic<G*> receiver{nullptr};
    Go([&, c]() mutable {
      int local = 42;
      rec.goid = CurrentId();
      rec.local = reinterpret_cast<uintptr_t>(&local);
      receiver = runtime_internal::CurrentG();
      c.Receive();
      EXPECT_EQ(local, 42);
    });
    // Parked in Receive, with `local` live in the frame below the parked SP.
    ASSERT_TRUE(testing_internal::AwaitParked(receiver, WaitReason::kChanReceive));
    gc::SetRootScanHook(RecordRoots, &rec);
    absl::StatusOr<gc::CycleStats> st = gc::Collect();
    gc::SetRootScanHook(nullptr, nullptr);
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(rec.calls.load(), st->goroutines_scanned);
    EXPECT_TRUE(rec.found.load());
    EXPECT_GT(st->frames_scanned, st->goroutines_scanned);
    c.Send(1);
  });
}

// In a blocking call the scan starts at the caller's frame recorded at EnterSyscall (the
// saved context is stale then): the caller's locals are in the range, and the walk finds
// frames.
TEST(GcTest, RootScanOfAGoroutineInABlockingCallStartsAtTheCaller) {
  HookRecord rec;
  RunGoroutines(2, [&] {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    std::atomic<G*> reader{nullptr};
    WaitGroup done;
    done.Add(1);
    Go([&] {
      int local = 7;
      rec.goid = CurrentId();
      rec.local = reinterpret_cast<uintptr_t>(&local);
      reader = runtime_internal::CurrentG();
      BlockingCall([&] {
        char c;
        return read(fds[0], &c, 1);
      });
      EXPECT_EQ(local, 7);
      done.Done();
    });
    while (reader.load() == nullptr || (ReadGStatus(reader) & ~uint32_t{kGScan}) != kGSyscall) {
      Sleep(absl::Microseconds(200));
    }
    gc::SetRootScanHook(RecordRoots, &rec);
    absl::StatusOr<gc::CycleStats> st = gc::Collect();
    gc::SetRootScanHook(nullptr, nullptr);
    ASSERT_TRUE(st.ok());
    EXPECT_TRUE(rec.found.load());
    char c = 'x';
    ASSERT_EQ(write(fds[1], &c, 1), 1);
    done.Wait();
    close(fds[0]);
    close(fds[1]);
  });
}

TEST(GcTest, PeriodicTriggerRunsCyclesOnItsOwn) {
  ScopedSetting period("gcperiod", "5ms", "2m");
  RunGoroutines(2, [] {
    const uint64_t before = gc::CyclesCompleted();
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (gc::CyclesCompleted() < before + 3 && absl::Now() < deadline) {
      Sleep(absl::Milliseconds(1));
    }
    EXPECT_GE(gc::CyclesCompleted(), before + 3);
    absl::StatusOr<gc::CycleStats> last = gc::LastCycle();
    ASSERT_TRUE(last.ok());
    EXPECT_EQ(last->trigger, gc::Trigger::kPeriodic);
  });
}

TEST(GcTest, StackGoalTriggersACycleWhenStacksGrow) {
  ScopedSetting period("gcperiod", "0", "2m");
  RunGoroutines(2, [] {
    // 2,000 goroutines x ~48 KiB = ~96 MiB committed, over the 64 MiB minimum goal.
    constexpr int kGoroutines = 2000;
    const uint64_t before = gc::CyclesCompleted();
    Chan<int> release(0);
    WaitGroup deep;
    deep.Add(kGoroutines);
    for (int i = 0; i < kGoroutines; ++i) {
      Go([release, &deep]() mutable {
        volatile int sink = TouchStack(48);
        (void)sink;
        deep.Done();
        release.Receive();
      });
    }
    deep.Wait();
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (gc::CyclesCompleted() == before && absl::Now() < deadline) {
      Sleep(absl::Milliseconds(5));
    }
    ASSERT_GT(gc::CyclesCompleted(), before);
    absl::StatusOr<gc::CycleStats> last = gc::LastCycle();
    ASSERT_TRUE(last.ok());
    EXPECT_EQ(last->trigger, gc::Trigger::kStackGoal);
    EXPECT_GT(last->committed_before, gc_internal::kMinStackGoalBytes);
    EXPECT_LT(last->committed_after, last->committed_before);
    release.Close();
  });
}

}  // namespace
}  // namespace goro

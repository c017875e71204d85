// Tests for the G status word: legal and illegal transitions, the scan bit, Waiting-for-GC,
// TraceStatusOf, IsShrinkStackSafe, and SuspendG/ResumeG against a thread playing a G.

#include "runtime/g_status.h"

#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/g.h"
#include "runtime/wait_reason.h"

namespace goro {
namespace {

constexpr uint32_t kStates[] = {kGIdle,    kGRunnable, kGRunning,  kGSyscall,
                                kGWaiting, kGDead,     kGPreempted};

// Tests set up a G's status directly; the runtime itself writes it only through the Cas*
// helpers.
void SetStatus(G* g, uint32_t status) { g->status.store(status, std::memory_order_release); }

const std::set<std::pair<uint32_t, uint32_t>>& LegalPairs() {
  static const auto* const pairs = new std::set<std::pair<uint32_t, uint32_t>>{
      {kGIdle, kGDead},        {kGDead, kGRunnable},     {kGDead, kGWaiting},
      {kGDead, kGSyscall},     {kGRunnable, kGRunning},  {kGRunning, kGRunnable},
      {kGRunning, kGWaiting},  {kGRunning, kGSyscall},   {kGRunning, kGDead},
      {kGSyscall, kGRunning},  {kGSyscall, kGRunnable},  {kGSyscall, kGDead},
      {kGWaiting, kGRunnable}, {kGWaiting, kGRunning},  // The latter for Waiting-for-GC only.
  };
  return *pairs;
}

TEST(GStatus, EveryLegalTransitionSucceeds) {
  for (const auto& [from, to] : LegalPairs()) {
    G g;
    g.id = 17;
    SetStatus(&g, from);
    if (from == kGWaiting) g.wait_reason = WaitReason::kStoppingTheWorld;
    CasGStatus(&g, from, to);
    EXPECT_EQ(ReadGStatus(&g), to) << GStatusString(from) << " -> " << GStatusString(to);
  }
}

TEST(GStatus, CasGToWaitingStoresTheReason) {
  G g;
  SetStatus(&g, kGRunning);
  CasGToWaiting(&g, kGRunning, WaitReason::kChanReceive);
  EXPECT_EQ(ReadGStatus(&g), kGWaiting);
  EXPECT_EQ(g.wait_reason.load(), WaitReason::kChanReceive);
}

TEST(GStatus, CasGToWaitingForGCAcceptsGCReasonsAndReturnsToRunning) {
  G g;
  SetStatus(&g, kGRunning);
  CasGToWaitingForGC(&g, kGRunning, WaitReason::kTraceGoroutineStatus);
  EXPECT_EQ(ReadGStatus(&g), kGWaiting);
  EXPECT_EQ(TraceStatusOf(ReadGStatus(&g), g.wait_reason.load()), TraceGoStatus::kRunning);
  CasGStatus(&g, kGWaiting, kGRunning);
  EXPECT_EQ(ReadGStatus(&g), kGRunning);
}

TEST(GStatus, StatusNames) {
  EXPECT_STREQ(GStatusString(kGRunning), "Running");
  EXPECT_STREQ(GStatusString(kGScanWaiting), "Scan|Waiting");
  EXPECT_STREQ(GStatusString(kGPreempted), "Preempted");
  EXPECT_STREQ(GStatusString(5), "unknown");
}

// --- Illegal transitions -------------------------------------------------------------

using GStatusDeathTest = ::testing::Test;

TEST(GStatusDeathTest, EveryIllegalTransitionDiesPrintingBothStates) {
  for (uint32_t from : kStates) {
    for (uint32_t to : kStates) {
      if (from == to || LegalPairs().count({from, to}) != 0) continue;
      G g;
      g.id = 99;
      SetStatus(&g, from);
      const std::string expected = std::string("goroutine 99 \\(g=0x[0-9a-f]+\\) old=") +
                                   GStatusString(from) + " new=" + GStatusString(to) +
                                   " current=" + GStatusString(from);
      EXPECT_DEATH(CasGStatus(&g, from, to), "goro: CasGStatus: illegal transition: " + expected)
          << GStatusString(from) << " -> " << GStatusString(to);
    }
  }
}

TEST(GStatusDeathTest, WaitingToRunningNeedsAWaitingForGCReason) {
  G g;
  g.id = 3;
  SetStatus(&g, kGWaiting);
  g.wait_reason = WaitReason::kChanSend;
  EXPECT_DEATH(CasGStatus(&g, kGWaiting, kGRunning),
               "illegal transition: goroutine 3 .* old=Waiting new=Running current=Waiting "
               "wait reason=\"chan send\"");
}

TEST(GStatusDeathTest, BadIncomingValuesDie) {
  G g;
  SetStatus(&g, kGRunning);
  EXPECT_DEATH(CasGStatus(&g, kGRunning, kGRunning), "bad incoming values.*old=Running new=Running");
  EXPECT_DEATH(CasGStatus(&g, kGScanRunning, kGWaiting), "bad incoming values.*old=Scan\\|Running");
  EXPECT_DEATH(CasGStatus(&g, kGRunning, kGScanWaiting), "bad incoming values.*new=Scan\\|Waiting");
}

TEST(GStatusDeathTest, WaitingForWaitingButRunnableDies) {
  G g;
  g.id = 5;
  SetStatus(&g, kGRunnable);
  EXPECT_DEATH(CasGStatus(&g, kGWaiting, kGRunnable),
               "waiting for Waiting but is Runnable: goroutine 5 .* current=Runnable");
}

TEST(GStatusDeathTest, UnexpectedCurrentStatusDies) {
  G g;
  g.id = 6;
  SetStatus(&g, kGSyscall);
  EXPECT_DEATH(CasGStatus(&g, kGRunning, kGRunnable),
               "not in the expected state: goroutine 6 .* old=Running new=Runnable "
               "current=Syscall");
}

TEST(GStatusDeathTest, CasGToWaitingForGCRejectsOrdinaryReasons) {
  G g;
  g.id = 8;
  SetStatus(&g, kGRunning);
  EXPECT_DEATH(CasGToWaitingForGC(&g, kGRunning, WaitReason::kSleep),
               "CasGToWaitingForGC with a wait reason outside the Waiting-for-GC set: "
               "\"sleep\" \\(goroutine 8");
}

// --- The scan bit ----------------------------------------------------------------------

TEST(GStatus, CasToGScanStatusAcceptsScannableStates) {
  for (uint32_t s : {kGRunnable, kGRunning, kGWaiting, kGSyscall}) {
    G g;
    SetStatus(&g, s);
    EXPECT_TRUE(CasToGScanStatus(&g, s, s | kGScan)) << GStatusString(s);
    EXPECT_EQ(ReadGStatus(&g), s | kGScan);
    // Held already: a second attempt fails without dying.
    EXPECT_FALSE(CasToGScanStatus(&g, s, s | kGScan));
    CasFromGScanStatus(&g, s | kGScan, s);
    EXPECT_EQ(ReadGStatus(&g), s);
  }
}

TEST(GStatusDeathTest, CasToGScanStatusRejectsOtherStates) {
  G g;
  SetStatus(&g, kGDead);
  EXPECT_DEATH(CasToGScanStatus(&g, kGDead, kGDead | kGScan), "CasToGScanStatus: bad transition");
  EXPECT_DEATH(CasToGScanStatus(&g, kGPreempted, kGScanPreempted),
               "CasToGScanStatus: bad transition");
  EXPECT_DEATH(CasToGScanStatus(&g, kGRunning, kGScanWaiting), "CasToGScanStatus: bad transition");
}

TEST(GStatusDeathTest, CasFromGScanStatusMustSucceed) {
  G g;
  g.id = 12;
  SetStatus(&g, kGWaiting);
  EXPECT_DEATH(CasFromGScanStatus(&g, kGScanWaiting, kGWaiting),
               "not in the scan state: goroutine 12 .* current=Waiting");
  EXPECT_DEATH(CasFromGScanStatus(&g, kGScanWaiting, kGRunnable), "bad transition");
}

TEST(GStatus, ScanBitMakesCasGStatusWaitUntilReleased) {
  G g;
  SetStatus(&g, kGWaiting);
  ASSERT_TRUE(CasToGScanStatus(&g, kGWaiting, kGScanWaiting));
  std::atomic<bool> started{false};
  std::atomic<bool> done{false};
  std::thread readier([&] {
    started.store(true);
    CasGStatus(&g, kGWaiting, kGRunnable);  // Spins while we hold the scan bit.
    done.store(true);
  });
  while (!started.load()) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(done.load()) << "CasGStatus went through while the scan bit was held";
  EXPECT_EQ(ReadGStatus(&g), kGScanWaiting);
  CasFromGScanStatus(&g, kGScanWaiting, kGWaiting);
  readier.join();
  EXPECT_TRUE(done.load());
  EXPECT_EQ(ReadGStatus(&g), kGRunnable);
}

// --- Wait reasons and trace status ---------------------------------------------------

TEST(WaitReason, WaitingForGCSetIsExactlyTheRegisteredOnes) {
  const std::set<WaitReason> expected = {
      WaitReason::kStoppingTheWorld,     WaitReason::kGCMarkTermination,
      WaitReason::kGarbageCollection,    WaitReason::kGarbageCollectionScan,
      WaitReason::kTraceGoroutineStatus, WaitReason::kTraceProcStatus,
      WaitReason::kPageTraceFlush,       WaitReason::kGCAssistMarking,
      WaitReason::kGCWorkerActive,       WaitReason::kFlushProcCaches,
      WaitReason::kGoroutineDump};
  std::set<std::string> names;
  for (int i = 0; i < static_cast<int>(WaitReason::kNumReasons); ++i) {
    const auto r = static_cast<WaitReason>(i);
    EXPECT_EQ(IsWaitingForGC(r), expected.count(r) == 1) << WaitReasonString(r);
    EXPECT_TRUE(names.insert(WaitReasonString(r)).second) << "duplicate " << WaitReasonString(r);
  }
  EXPECT_FALSE(IsWaitingForGC(WaitReason::kGCAssistWait));  // A real park.
  EXPECT_FALSE(IsWaitingForGC(WaitReason::kNumReasons));
  EXPECT_STREQ(WaitReasonString(WaitReason::kChanReceive), "chan receive");
  EXPECT_STREQ(WaitReasonString(WaitReason::kSelectNoCases), "select (no cases)");
  EXPECT_STREQ(WaitReasonString(WaitReason::kSyncWaitGroupWait), "sync.WaitGroup.Wait");
  EXPECT_STREQ(WaitReasonString(WaitReason::kStoppingTheWorld), "stopping the world");
  EXPECT_STREQ(WaitReasonString(static_cast<WaitReason>(200)), "unknown wait reason");
}

TEST(TraceStatusOf, MapsEveryTraceableState) {
  struct Case {
    uint32_t status;
    WaitReason reason;
    TraceGoStatus want;
  };
  const Case cases[] = {
      {kGRunnable, WaitReason::kZero, TraceGoStatus::kRunnable},
      {kGRunning, WaitReason::kZero, TraceGoStatus::kRunning},
      {kGSyscall, WaitReason::kZero, TraceGoStatus::kSyscall},
      {kGWaiting, WaitReason::kChanReceive, TraceGoStatus::kWaiting},
      {kGWaiting, WaitReason::kGCAssistWait, TraceGoStatus::kWaiting},
      {kGWaiting, WaitReason::kStoppingTheWorld, TraceGoStatus::kRunning},
      {kGWaiting, WaitReason::kTraceGoroutineStatus, TraceGoStatus::kRunning},
      {kGWaiting, WaitReason::kGarbageCollectionScan, TraceGoStatus::kRunning},
      // Preempted never counts as running, whatever stale reason it carries.
      {kGPreempted, WaitReason::kStoppingTheWorld, TraceGoStatus::kWaiting},
      {kGPreempted, WaitReason::kPreempted, TraceGoStatus::kWaiting},
      // The scan bit is ignored.
      {kGScanRunnable, WaitReason::kZero, TraceGoStatus::kRunnable},
      {kGScanWaiting, WaitReason::kSleep, TraceGoStatus::kWaiting},
      {kGScanSyscall, WaitReason::kZero, TraceGoStatus::kSyscall},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(TraceStatusOf(c.status, c.reason), c.want)
        << GStatusString(c.status) << " / " << WaitReasonString(c.reason);
  }
  EXPECT_STREQ(TraceGoStatusString(TraceGoStatus::kRunning), "Running");
}

using TraceStatusOfDeathTest = ::testing::Test;

TEST(TraceStatusOfDeathTest, DeadAndIdleDie) {
  EXPECT_DEATH(TraceStatusOf(kGDead, WaitReason::kZero), "tried to trace dead goroutine");
  EXPECT_DEATH(TraceStatusOf(kGIdle, WaitReason::kZero), "invalid or unsupported status Idle");
}

TEST(IsShrinkStackSafe, RefusesSyscallChannelParkingAndGCWaitWhileTracing) {
  G g;
  SetStatus(&g, kGScanWaiting);
  g.wait_reason = WaitReason::kChanReceive;
  EXPECT_TRUE(IsShrinkStackSafe(&g, /*tracing_enabled=*/true));
  g.parking_on_chan = true;
  EXPECT_FALSE(IsShrinkStackSafe(&g, false));
  g.parking_on_chan = false;
  g.wait_reason = WaitReason::kStoppingTheWorld;
  EXPECT_FALSE(IsShrinkStackSafe(&g, /*tracing_enabled=*/true));
  EXPECT_TRUE(IsShrinkStackSafe(&g, /*tracing_enabled=*/false));
  SetStatus(&g, kGScanSyscall);
  EXPECT_FALSE(IsShrinkStackSafe(&g, false));
  SetStatus(&g, kGScanRunnable);
  EXPECT_TRUE(IsShrinkStackSafe(&g, true));
}

TEST(WhyShrinkStackUnsafe, NamesOneReasonEach) {
  G g;
  SetStatus(&g, kGScanWaiting);
  g.wait_reason = WaitReason::kChanReceive;
  EXPECT_EQ(WhyShrinkStackUnsafe(&g, true), nullptr);
  g.parking_on_chan = true;
  EXPECT_STREQ(WhyShrinkStackUnsafe(&g, false), "parking on a channel");
  g.parking_on_chan = false;
  g.wait_reason = WaitReason::kGarbageCollection;
  EXPECT_STREQ(WhyShrinkStackUnsafe(&g, true), "waiting for GC while tracing");
  EXPECT_EQ(WhyShrinkStackUnsafe(&g, false), nullptr);
  SetStatus(&g, kGScanSyscall);
  EXPECT_STREQ(WhyShrinkStackUnsafe(&g, false), "in a blocking call");
}

// --- SuspendG / ResumeG ----------------------------------------------------------------

TEST(SuspendG, TakesTheScanBitOfParkedGoroutines) {
  for (uint32_t s : {kGRunnable, kGWaiting, kGSyscall}) {
    G g;
    SetStatus(&g, s);
    g.preempt = true;  // A stale request is cleared once the stack is ours.
    SuspendGState state = SuspendG(&g);
    EXPECT_FALSE(state.dead);
    EXPECT_FALSE(state.stopped);
    EXPECT_EQ(ReadGStatus(&g), s | kGScan);
    EXPECT_FALSE(g.preempt.load());
    ResumeG(state);
    EXPECT_EQ(ReadGStatus(&g), s);
  }
}

TEST(SuspendG, DeadGoroutineReportsDead) {
  G g;
  SetStatus(&g, kGDead);
  SuspendGState state = SuspendG(&g);
  EXPECT_TRUE(state.dead);
  ResumeG(state);
  EXPECT_EQ(ReadGStatus(&g), kGDead);
}

TEST(TrySuspendG, TakesOnlyWhatIsFreeNow) {
  for (uint32_t s : {kGRunnable, kGWaiting, kGSyscall}) {
    G g;
    SetStatus(&g, s);
    SuspendGState state;
    ASSERT_TRUE(TrySuspendG(&g, &state)) << GStatusString(s);
    EXPECT_EQ(ReadGStatus(&g), s | kGScan);
    // Held: a second try does not wait for it, it fails.
    SuspendGState second;
    EXPECT_FALSE(TrySuspendG(&g, &second));
    ResumeG(state);
    EXPECT_EQ(ReadGStatus(&g), s);
  }
  // Running (it would need a safe point), Preempted (someone else's suspension), Dead,
  // Idle: refused at once, the status untouched and no preemption request posted.
  for (uint32_t s : {kGRunning, kGPreempted, kGDead, kGIdle}) {
    G g;
    SetStatus(&g, s);
    SuspendGState state;
    EXPECT_FALSE(TrySuspendG(&g, &state)) << GStatusString(s);
    EXPECT_EQ(ReadGStatus(&g), s);
    EXPECT_FALSE(g.preempt_stop.load());
  }
}

// The test's stand-in for the scheduler's ready(gp).
std::atomic<int> g_ready_calls{0};
void TestReady(G* g) {
  CasGStatus(g, kGWaiting, kGRunnable);
  g_ready_calls.fetch_add(1);
}

TEST(SuspendG, StopsARunningGoroutineAtItsSafePoint) {
  SetGReadyFunction(&TestReady);
  G g;
  g.id = 21;
  SetStatus(&g, kGRunning);
  std::atomic<bool> stop{false};
  std::atomic<long> work{0};
  std::atomic<int> parks{0};
  // Plays the running G and its M: work, and at each safe point honour preempt_stop the
  // way the scheduler will (Go's preemptPark), then wait to be readied and run again.
  std::thread running_g([&] {
    runtime_internal::SetCurrentG(&g);
    while (!stop.load()) {
      work.fetch_add(1);
      if (g.preempt_stop.load(std::memory_order_relaxed)) {  // Safe point.
        parks.fetch_add(1);  // Before the status change, which lets SuspendG return.
        CasGToPreemptScan(&g, kGRunning, kGScanPreempted);
        CasFromGScanStatus(&g, kGScanPreempted, kGPreempted);
        while (ReadGStatus(&g) != kGRunnable) std::this_thread::yield();
        CasGStatus(&g, kGRunnable, kGRunning);  // "execute"
      }
    }
    CasGStatus(&g, kGRunning, kGDead);
    runtime_internal::SetCurrentG(nullptr);
  });
  while (work.load() < 1000) std::this_thread::yield();

  SuspendGState state = SuspendG(&g);
  EXPECT_FALSE(state.dead);
  EXPECT_TRUE(state.stopped);
  EXPECT_EQ(ReadGStatus(&g), kGScanWaiting);
  EXPECT_EQ(g.wait_reason.load(), WaitReason::kPreempted);
  EXPECT_FALSE(g.preempt_stop.load());
  EXPECT_EQ(parks.load(), 1);
  const long frozen = work.load();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(work.load(), frozen) << "the G ran while suspended";

  const int ready_before = g_ready_calls.load();
  ResumeG(state);
  EXPECT_EQ(g_ready_calls.load(), ready_before + 1);
  while (work.load() < frozen + 1000) std::this_thread::yield();  // It runs again.
  stop.store(true);
  running_g.join();
  EXPECT_EQ(ReadGStatus(&g), kGDead);
}

using SuspendGDeathTest = ::testing::Test;

TEST(SuspendGDeathTest, RefusesARunningCaller) {
  G self;
  self.id = 2;
  SetStatus(&self, kGRunning);
  G target;
  target.id = 4;
  SetStatus(&target, kGWaiting);
  EXPECT_DEATH(
      {
        runtime_internal::SetCurrentG(&self);
        SuspendG(&target);
      },
      "SuspendG from a Running goroutine: goroutine 2 .* must move itself to Waiting");
}

TEST(SuspendG, AllowsACallerWaitingForGC) {
  G self;
  self.id = 2;
  SetStatus(&self, kGRunning);
  G target;
  SetStatus(&target, kGRunnable);
  runtime_internal::SetCurrentG(&self);
  CasGToWaitingForGC(&self, kGRunning, WaitReason::kGarbageCollectionScan);
  SuspendGState state = SuspendG(&target);
  EXPECT_EQ(ReadGStatus(&target), kGScanRunnable);
  ResumeG(state);
  CasGStatus(&self, kGWaiting, kGRunning);
  runtime_internal::SetCurrentG(nullptr);
}

}  // namespace
}  // namespace goro

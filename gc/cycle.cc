// One collection cycle (Go's gcStart .. gcMarkTermination, reduced to what goro has: no
// heap yet, so the work is the stack roots).
//
// The shape, and where concurrent marking and a heap will fit later:
//   1. stop the world (runtime/world.h; STWBegin/STWEnd while tracing);
//   2. on the collector's scheduler stack, Waiting for "garbage collection"
//      (CallOnSchedulerStackWaitingForGC): GCBegin; for each goroutine: SuspendG (the scan
//      bit), ScanStack (bytes in use, frames, the root hook), ShrinkStack (which measures
//      the stack with one mincore, or none if the goroutine has not run since the last
//      cycle, and releases what lies below the release line), ResumeG; the collector's
//      own stack last, under "garbage collection scan"; the dead goroutines' stacks
//      trimmed to their hot tops; GCEnd. Committed bytes before and after are the sums of
//      the per-stack measurements;
//   3. start the world; publish the statistics; gctrace.
// A concurrent mark phase would run step 2's per-goroutine loop with the world started:
// every step already goes through SuspendG/ResumeG and IsShrinkStackSafe rather than
// relying on the world being stopped, and the root hook is where a heap marker plugs in.
// Only the dead-stack trim (which takes the free list's lock) and the reuse of a
// measurement (valid while the goroutine has not run) lean on the stop.

#include <atomic>
#include <cstdint>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "base/mutex.h"
#include "gc/gc.h"
#include "gc/pacer.h"
#include "gc/scan.h"
#include "gc/shrink.h"
#include "runtime/g.h"
#include "runtime/g_status.h"
#include "runtime/m.h"
#include "runtime/note.h"
#include "runtime/park.h"
#include "runtime/sched.h"
#include "runtime/settings.h"
#include "runtime/stack.h"
#include "runtime/world.h"
#include "tracer/emit.h"

namespace goro::gc_internal {

using gc::CycleStats;
using gc::RootScanHook;
using gc::Trigger;
using runtime_internal::Sched;

namespace {

// What the scheduler-stack half of a cycle reads and fills in. Lives in the collector's
// frame, above its saved SP.
struct CycleWork {
  CycleStats stats;
  RootScanHook hook = nullptr;
  void* hook_arg = nullptr;
};

// Cycle numbers; written only with the world stopped by the collector (cycles are
// serialised by the stop-the-world token), read by anyone.
std::atomic<uint64_t> g_cycles_started{0};
std::atomic<uint64_t> g_cycles_completed{0};

base_internal::OsMutex g_mu;
// Protected by g_mu.
CycleStats g_last_cycle ABSL_GUARDED_BY(g_mu);
RootScanHook g_hook ABSL_GUARDED_BY(g_mu) = nullptr;
void* g_hook_arg ABSL_GUARDED_BY(g_mu) = nullptr;

// The collector changes its own Waiting-for-GC reason (Go's markroot self-scan uses
// "garbage collection scan"): back to Running and into Waiting again, both on the
// scheduler stack, so no one sees a Waiting status with a stale reason.
void SetOwnReason(G* self, WaitReason reason) {
  CasGStatus(self, kGWaiting, kGRunning);
  CasGToWaitingForGC(self, kGRunning, reason);
}

void ScanAndShrink(G* g, CycleWork* w) {
  const SuspendGState held = SuspendG(g);
  if (held.dead) return;
  if (g->stack != nullptr) {
    const gc_internal::StackScan scan = gc_internal::ScanStack(g);
    w->stats.goroutines_scanned++;
    w->stats.frames_scanned += scan.frames;
    w->stats.stack_bytes_in_use += scan.hi - scan.sp;
    if (w->hook != nullptr) w->hook(w->hook_arg, g->id, scan.sp, scan.hi);
    const gc_internal::ShrinkResult r = gc_internal::ShrinkStack(g);
    w->stats.committed_before += r.before;
    w->stats.committed_after += r.after;
    if (r.outcome == gc_internal::ShrinkOutcome::kShrunk) {
      w->stats.shrinks++;
      w->stats.released_bytes += r.before - r.after;
    } else if (r.outcome == gc_internal::ShrinkOutcome::kDeferred) {
      w->stats.shrinks_deferred++;
      if (debug::gctrace.Get() >= 2) {
        absl::FPrintF(stderr, "gc %d: goroutine %d: shrink deferred (%s)\n", w->stats.cycle,
                      g->id, r.why_deferred);
      }
    }
  }
  ResumeG(held);
}

// Dead goroutines keep their stacks for reuse (Go frees them in markrootFreeGStacks):
// give back everything below the hot top a reused stack starts in.
void TrimDeadStacks(Sched* s, CycleWork* w) {
  const size_t hot = s->stacks->options().hot_bytes;
  base_internal::OsMutexLock lock(&s->mu);
  for (G* g = s->gfree; g != nullptr; g = g->sched_link) {
    if (g->stack == nullptr) continue;
    const gc_internal::ShrinkResult r = gc_internal::TrimDeadStack(g, hot);
    w->stats.committed_before += r.before;
    w->stats.committed_after += r.after;
    w->stats.released_bytes += r.before - r.after;
  }
}

void CycleOnSchedulerStack(void* arg) {
  auto* w = static_cast<CycleWork*>(arg);
  Sched* s = runtime_internal::sched();
  G* self = runtime_internal::CurrentG();
  w->stats.cycle = g_cycles_started.fetch_add(1, std::memory_order_relaxed) + 1;
  {
    // The collector is Waiting for GC on its scheduler stack: GCBegin's stack is its own,
    // reached through M::curg (DESIGN.md 4 rule 3).
    trace::internal::EventBracket t;
    t.GCBegin(w->stats.cycle);
  }
  std::vector<G*> gs;
  {
    base_internal::OsMutexLock lock(&s->allg_mu);
    gs = s->allgs;
  }
  for (G* g : gs) {
    if (g != self) ScanAndShrink(g, w);
  }
  SetOwnReason(self, WaitReason::kGarbageCollectionScan);
  ScanAndShrink(self, w);
  SetOwnReason(self, WaitReason::kGarbageCollection);
  TrimDeadStacks(s, w);
  trace::internal::EventBracket t;
  t.GCEnd(w->stats.cycle);
}

void PrintGCTrace(const CycleStats& st) {
  absl::FPrintF(stderr,
                "gc %d @%.3fs: stw %.3f ms (stop %.3f ms), %d goroutines, %d frames scanned, "
                "stacks %d->%d KiB committed, %d shrunk (%d KiB), %d deferred, %s\n",
                st.cycle, absl::ToDoubleSeconds(st.since_start),
                absl::ToDoubleMilliseconds(st.stw_pause), absl::ToDoubleMilliseconds(st.stop_wait),
                st.goroutines_scanned, st.frames_scanned, st.committed_before / 1024,
                st.committed_after / 1024, st.shrinks, st.released_bytes / 1024, st.shrinks_deferred,
                gc::TriggerName(st.trigger));
}

}  // namespace

CycleStats RunCycle(Trigger trigger) {
  Sched* s = runtime_internal::sched();
  CycleWork w;
  w.stats.trigger = trigger;
  {
    base_internal::OsMutexLock lock(&g_mu);
    w.hook = g_hook;
    w.hook_arg = g_hook_arg;
  }
  const int64_t t0 = runtime_internal::NanoTime();
  runtime_internal::StopTheWorld(runtime_internal::STWReason::kGC);
  const int64_t t_stopped = runtime_internal::NanoTime();
  runtime_internal::CallOnSchedulerStackWaitingForGC(WaitReason::kGarbageCollection,
                                                     CycleOnSchedulerStack, &w);
  runtime_internal::StartTheWorld();
  const int64_t t_end = runtime_internal::NanoTime();
  w.stats.since_start = absl::Nanoseconds(t0 - s->start_ns);
  w.stats.stw_pause = absl::Nanoseconds(t_end - t0);
  w.stats.stop_wait = absl::Nanoseconds(t_stopped - t0);
  {
    base_internal::OsMutexLock lock(&g_mu);
    g_last_cycle = w.stats;
  }
  g_cycles_completed.fetch_add(1, std::memory_order_release);
  NoteCycleFinished(t_end, w.stats.committed_after);
  if (debug::gctrace.Get() >= 1) PrintGCTrace(w.stats);
  return w.stats;
}

}  // namespace goro::gc_internal

namespace goro::gc {

using gc_internal::g_cycles_completed;
using gc_internal::g_hook;
using gc_internal::g_hook_arg;
using gc_internal::g_last_cycle;
using gc_internal::g_mu;

const char* TriggerName(Trigger trigger) {
  switch (trigger) {
    case Trigger::kExplicit:
      return "explicit";
    case Trigger::kPeriodic:
      return "periodic";
    case Trigger::kStackGoal:
      return "stack goal";
  }
  return "unknown";
}


absl::StatusOr<CycleStats> Collect() {
  if (runtime_internal::sched() == nullptr || runtime_internal::CurrentG() == nullptr) {
    return absl::FailedPreconditionError(
        "goro::gc::Collect must be called from a goroutine inside goro::Run");
  }
  return gc_internal::RunCycle(Trigger::kExplicit);
}

uint64_t CyclesCompleted() { return g_cycles_completed.load(std::memory_order_acquire); }

absl::StatusOr<CycleStats> LastCycle() {
  if (CyclesCompleted() == 0) return absl::NotFoundError("no GC cycle has finished yet");
  base_internal::OsMutexLock lock(&g_mu);
  return g_last_cycle;
}

int64_t DeferredShrinksDone() { return gc_internal::DeferredShrinksDoneCount(); }

absl::StatusOr<uint64_t> CommittedStackBytes() {
  runtime_internal::Sched* s = runtime_internal::sched();
  if (s == nullptr) {
    return absl::FailedPreconditionError(
        "goro::gc::CommittedStackBytes must be called inside goro::Run");
  }
  return s->stacks->CommittedBytes();
}

void SetRootScanHook(RootScanHook hook, void* arg) {
  base_internal::OsMutexLock lock(&g_mu);
  g_hook = hook;
  g_hook_arg = arg;
}

}  // namespace goro::gc

// One collection cycle (Go's gcStart .. gcMarkDone .. gcMarkTermination, reduced to what
// goro has: no heap yet, so the work is the stack roots), concurrent with the program.
//
// The shape:
//   1. pause 1 (stop the world; STWBegin/STWEnd while tracing): GCBegin; the marking cycle
//      number is published (Sched::gc_marking_cycle), so that goroutines created from now
//      on count as scanned (Go allocates them black); the number of goroutines to visit is
//      taken (a prefix of allgs); the world starts again;
//   2. the concurrent phase, with every other goroutine running: the collector visits the
//      goroutines in batches, each batch on its scheduler stack while Waiting for
//      "garbage collection" (CallOnSchedulerStackWaitingForGC): per goroutine SuspendG (the
//      scan bit; a Running one is preempted, by signal if it does not reach a safe point),
//      ScanStack (bytes in use, frames, the root hook), ShrinkStack (measure, release below
//      the release line, or defer when IsShrinkStackSafe refuses), ResumeG. Then its own
//      stack, under "garbage collection scan". Then the dead goroutines' stacks, a batch at
//      a time off the free list. Between batches the collector keeps to its share of the
//      CPU (Go's 25% goal): when it has used more than a quarter of the Ps' time since the
//      phase began and other goroutines are waiting to run, it yields;
//   3. pause 2 (stop the world): the marking cycle ends; GCEnd; the world starts; the
//      statistics are published; gctrace.
// Both pauses cost a stop and a start of the Ps, independent of the number of goroutines;
// every page release happens in the concurrent phase.
//
// Why this is safe with goroutines, the tracer and other suspenders running: a stack is
// read or released only by the holder of its scan bit (or by its own M, for a deferred
// shrink), and IsShrinkStackSafe's rules (blocking call, channel parking window,
// Waiting-for-GC while tracing) are what stand between the collector and a tracer walking
// a goroutine's frames from that goroutine's own M. Committed-stack accounting is the sum
// of per-stack measurements, each taken while its stack was owned.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
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
using runtime_internal::NanoTime;
using runtime_internal::Sched;

namespace {

// Goroutines (or dead stacks) one batch of the concurrent phase visits at most, and the
// time after which a batch ends early, so that the collector checks its CPU share often.
constexpr size_t kBatchGoroutines = 64;
constexpr int64_t kBatchNs = 500 * 1000;

// What the scheduler-stack halves of a cycle read and fill in. Lives in the collector's
// frame, above its saved SP.
struct CycleWork {
  CycleStats stats;
  RootScanHook hook = nullptr;
  void* hook_arg = nullptr;
  // The goroutines allgs held at pause 1: the ones this cycle visits.
  size_t visit = 0;
  // The batch being visited.
  std::vector<G*> batch;
  // Time the collector spent in batches (its CPU share).
  int64_t busy_ns = 0;
  // When the cycle began (NanoTime): the wait clock of goroutines it finds waiting.
  int64_t start_ns = 0;
};

// Cycle numbers; cycles are serialised by g_cycle_token.
// Atomic (relaxed): incremented by the collector in pause 1, with the world stopped.
std::atomic<uint64_t> g_cycles_started{0};
// Atomic: incremented (release) once the cycle is over, after pause 2 has ended and the
// world runs again; read with acquire by gc::CyclesCompleted, so a reader that sees the
// count also sees that cycle's stats in g_last_cycle.
std::atomic<uint64_t> g_cycles_completed{0};
// Atomic: a cycle is running (Go's work.startSema). acquire/release pairs order one
// collector's work before the next's.
std::atomic<bool> g_cycle_token{false};
// Atomic (relaxed): nanoseconds the collector spent working, over the whole process (the
// P% of gctrace).
std::atomic<int64_t> g_total_busy_ns{0};

base_internal::OsMutex g_mu{base_internal::LockRank::kGcCycle};
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
  NoteWaitingSince(g, w->start_ns);
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
      const absl::string_view why = r.why_deferred;
      if (why == "in a blocking call") w->stats.deferred_in_call++;
      if (why == "parking on a channel") w->stats.deferred_parking_on_chan++;
      if (why == "waiting for GC while tracing") w->stats.deferred_waiting_for_gc++;
      if (debug::gctrace.Get() >= 2) {
        absl::FPrintF(stderr, "gc %d: goroutine %d: shrink deferred (%s)\n", w->stats.cycle,
                      g->id, r.why_deferred);
      }
    }
  }
  ResumeG(held);
}

// Pause 1, on the collector's scheduler stack with the world stopped.
void BeginOnSchedulerStack(void* arg) {
  auto* w = static_cast<CycleWork*>(arg);
  Sched* s = runtime_internal::sched();
  w->stats.cycle = g_cycles_started.fetch_add(1, std::memory_order_relaxed) + 1;
  {
    // The collector is Waiting for GC on its scheduler stack: GCBegin's stack is its own,
    // reached through M::curg (DESIGN.md 4 rule 3).
    trace::internal::EventBracket t;
    t.GCBegin(w->stats.cycle);
  }
  // Relaxed: NewProc reads it under the stop-the-world's own ordering (the world restarts
  // after this store) and tolerates a stale value only for goroutines created before.
  s->gc_marking_cycle.store(w->stats.cycle, std::memory_order_relaxed);
  base_internal::OsMutexLock lock(&s->allg_mu);
  w->visit = s->allgs.size();
}

// Pause 2, on the collector's scheduler stack with the world stopped.
void EndOnSchedulerStack(void* arg) {
  auto* w = static_cast<CycleWork*>(arg);
  runtime_internal::sched()->gc_marking_cycle.store(0, std::memory_order_relaxed);
  trace::internal::EventBracket t;
  t.GCEnd(w->stats.cycle);
}

// One batch of goroutines (w->batch), on the collector's scheduler stack.
void ScanBatchOnSchedulerStack(void* arg) {
  auto* w = static_cast<CycleWork*>(arg);
  G* self = runtime_internal::CurrentG();
  for (G* g : w->batch) {
    if (g == self) continue;  // last, under its own reason
    // Created during this cycle (allocated black): nothing of its stack predates the cycle.
    if (g->gc_black_cycle.load(std::memory_order_relaxed) == w->stats.cycle) continue;
    ScanAndShrink(g, w);
  }
}

void ScanSelfOnSchedulerStack(void* arg) {
  auto* w = static_cast<CycleWork*>(arg);
  G* self = runtime_internal::CurrentG();
  SetOwnReason(self, WaitReason::kGarbageCollectionScan);
  ScanAndShrink(self, w);
  SetOwnReason(self, WaitReason::kGarbageCollection);
}

// Dead goroutines keep their stacks for reuse (Go frees them in markrootFreeGStacks):
// give back everything below the hot top a reused stack starts in. The Gs in w->batch
// were taken off the free list, so nobody else holds them.
void TrimBatchOnSchedulerStack(void* arg) {
  auto* w = static_cast<CycleWork*>(arg);
  Sched* s = runtime_internal::sched();
  const size_t hot = s->stacks->options().hot_bytes;
  for (G* g : w->batch) {
    if (g->stack == nullptr) continue;
    const gc_internal::ShrinkResult r = gc_internal::TrimDeadStack(g, hot);
    w->stats.committed_before += r.before;
    w->stats.committed_after += r.after;
    w->stats.released_bytes += r.before - r.after;
  }
}

// Runs fn on the collector's scheduler stack, Waiting for GC, and counts the time.
void RunBatch(CycleWork* w, void (*fn)(void*)) {
  const int64_t t0 = NanoTime();
  runtime_internal::CallOnSchedulerStackWaitingForGC(WaitReason::kGarbageCollection, fn, w);
  w->busy_ns += NanoTime() - t0;
}

// Whether any goroutine waits to run (on a P's queue or the global one).
bool OthersWaiting(Sched* s) {
  if (s->runq_size.load(std::memory_order_relaxed) > 0) return true;
  for (auto& p : s->allp) {
    if (!p->runq.Empty()) return true;
  }
  return false;
}

// Keeps the collector to a quarter of the Ps' time since `phase_start` while others want
// to run (Go's gcBackgroundUtilization): yields until it is back under its share or nobody
// else is waiting.
void Pace(Sched* s, CycleWork* w, int64_t phase_start) {
  for (;;) {
    const int64_t elapsed = NanoTime() - phase_start;
    const double budget = 0.25 * static_cast<double>(s->nprocs) * static_cast<double>(elapsed);
    if (static_cast<double>(w->busy_ns) <= budget || !OthersWaiting(s)) return;
    runtime_internal::Yield();
  }
}

void ConcurrentPhase(Sched* s, CycleWork* w) {
  const int64_t phase_start = NanoTime();
  for (size_t next = 0; next < w->visit;) {
    w->batch.clear();
    {
      base_internal::OsMutexLock lock(&s->allg_mu);
      const size_t end = std::min(w->visit, next + kBatchGoroutines);
      w->batch.assign(s->allgs.begin() + static_cast<ptrdiff_t>(next),
                      s->allgs.begin() + static_cast<ptrdiff_t>(end));
      next = end;
    }
    RunBatch(w, ScanBatchOnSchedulerStack);
    Pace(s, w, phase_start);
  }
  RunBatch(w, ScanSelfOnSchedulerStack);
  // The dead stacks, a batch at a time off the free list (spawns take from the rest
  // meanwhile); trimmed ones go back at the end.
  std::vector<G*> trimmed;
  for (;;) {
    w->batch.clear();
    {
      base_internal::OsMutexLock lock(&s->mu);
      while (s->gfree != nullptr && w->batch.size() < kBatchGoroutines) {
        G* g = s->gfree;
        s->gfree = g->sched_link;
        g->sched_link = nullptr;
        w->batch.push_back(g);
      }
    }
    if (w->batch.empty()) break;
    RunBatch(w, TrimBatchOnSchedulerStack);
    trimmed.insert(trimmed.end(), w->batch.begin(), w->batch.end());
    Pace(s, w, phase_start);
  }
  if (!trimmed.empty()) {
    base_internal::OsMutexLock lock(&s->mu);
    for (G* g : trimmed) {
      g->sched_link = s->gfree;
      s->gfree = g;
    }
  }
}

void PrintGCTrace(const CycleStats& st) {
  // Go's shape first ("gc N @Ts P%: A+B+C ms clock"), then goro's own fields.
  absl::FPrintF(stderr,
                "gc %d @%.3fs %d%%: %.3f+%.3f+%.3f ms clock, %d goroutines, %d frames scanned, "
                "stacks %d->%d KiB committed, %d shrunk (%d KiB), %d deferred, %s\n",
                st.cycle, absl::ToDoubleSeconds(st.since_start),
                static_cast<int>(st.gc_cpu_fraction * 100.0 + 0.5),
                absl::ToDoubleMilliseconds(st.pause_begin),
                absl::ToDoubleMilliseconds(st.concurrent),
                absl::ToDoubleMilliseconds(st.pause_end), st.goroutines_scanned,
                st.frames_scanned, st.committed_before / 1024, st.committed_after / 1024,
                st.shrinks, st.released_bytes / 1024, st.shrinks_deferred,
                gc::TriggerName(st.trigger));
}

}  // namespace

CycleStats RunCycle(Trigger trigger) {
  Sched* s = runtime_internal::sched();
  // One cycle at a time: a second collector waits for the first to finish, then runs its
  // own (Go's runtime.GC).
  while (g_cycle_token.exchange(true, std::memory_order_acquire)) runtime_internal::Yield();
  CycleWork w;
  w.stats.trigger = trigger;
  {
    base_internal::OsMutexLock lock(&g_mu);
    w.hook = g_hook;
    w.hook_arg = g_hook_arg;
  }
  const int64_t t0 = NanoTime();
  w.start_ns = t0;
  runtime_internal::StopTheWorld(runtime_internal::STWReason::kGC);
  const int64_t t_stopped = NanoTime();
  runtime_internal::CallOnSchedulerStackWaitingForGC(WaitReason::kGarbageCollection,
                                                     BeginOnSchedulerStack, &w);
  const int64_t t1 = runtime_internal::StartTheWorld();

  ConcurrentPhase(s, &w);

  const int64_t t2 = NanoTime();
  runtime_internal::StopTheWorld(runtime_internal::STWReason::kGC);
  const int64_t t2_stopped = NanoTime();
  runtime_internal::CallOnSchedulerStackWaitingForGC(WaitReason::kGarbageCollection,
                                                     EndOnSchedulerStack, &w);
  const int64_t t3 = runtime_internal::StartTheWorld();

  w.stats.since_start = absl::Nanoseconds(t0 - s->start_ns);
  w.stats.pause_begin = absl::Nanoseconds(t1 - t0);
  w.stats.concurrent = absl::Nanoseconds(t2 - t1);
  w.stats.pause_end = absl::Nanoseconds(t3 - t2);
  w.stats.stw_pause = std::max(w.stats.pause_begin, w.stats.pause_end);
  w.stats.stop_wait = absl::Nanoseconds(std::max(t_stopped - t0, t2_stopped - t2));
  const int64_t busy = w.busy_ns + (t1 - t0) + (t3 - t2);
  const int64_t total_busy = g_total_busy_ns.fetch_add(busy, std::memory_order_relaxed) + busy;
  const int64_t lifetime = std::max<int64_t>(1, t3 - s->start_ns) * s->nprocs;
  w.stats.gc_cpu_fraction = static_cast<double>(total_busy) / static_cast<double>(lifetime);
  {
    base_internal::OsMutexLock lock(&g_mu);
    g_last_cycle = w.stats;
  }
  // Release: a reader that sees the count sees the cycle's effects.
  g_cycles_completed.fetch_add(1, std::memory_order_release);
  g_cycle_token.store(false, std::memory_order_release);
  NoteCycleFinished(t3, w.stats.committed_after);
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

// goro::gc — the collector's public API: run a cycle, read its statistics, account for
// committed stack memory, and install the root-scanning hook. How a cycle works is in
// gc/cycle.cc; why a stack may or may not be shrunk is in gc/shrink.h.

#ifndef GORO_GC_GC_H_
#define GORO_GC_GC_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace goro::gc {

// goro::gc::Trigger says what started a cycle.
enum class Trigger : uint8_t {
  kExplicit = 0,    // goro::gc::Collect()
  kPeriodic = 1,    // gcperiod elapsed since the last cycle
  kStackGoal = 2,   // committed stack memory passed the gcstackpercent goal
};

// goro::gc::TriggerName returns "explicit", "periodic" or "stack goal".
// Thread safety: pure function.
const char* TriggerName(Trigger trigger);

// goro::gc::CycleStats describes one finished cycle (what gctrace prints).
struct CycleStats {
  // 1 for the first cycle of the process, then 2, 3, ...
  uint64_t cycle = 0;
  Trigger trigger = Trigger::kExplicit;
  // When the cycle began, measured from goro::Run's start.
  absl::Duration since_start;
  // The cycle's two stop-the-world pauses (each from the stop request to the restart: Go's
  // "A" and "C" of gctrace) and the concurrent phase between them ("B"), in which every
  // goroutine's stack was scanned and shrunk while the others ran.
  absl::Duration pause_begin;
  absl::Duration concurrent;
  absl::Duration pause_end;
  // The longer of the two pauses, and the longest time either spent waiting for the other
  // Ps to stop (preempting goroutines that run without a safe point).
  absl::Duration stw_pause;
  absl::Duration stop_wait;
  // The collector's share of the Ps' time since goro::Run started, over all cycles so far
  // (gctrace's P%): pauses count on every P, batches of the concurrent phase on one.
  double gc_cpu_fraction = 0;
  // Live goroutines whose stacks were scanned (the collector's own included), and the
  // frames the scan walked across all of them.
  int64_t goroutines_scanned = 0;
  int64_t frames_scanned = 0;
  // Sum over scanned goroutines of the bytes between the saved SP and the top of the stack.
  uint64_t stack_bytes_in_use = 0;
  // Committed (resident) bytes of every goroutine's stack, live and dead, before the cycle
  // and after its shrinks: the sum of the per-stack measurements (one mincore per stack,
  // none for a goroutine that has not run since the previous cycle).
  uint64_t committed_before = 0;
  uint64_t committed_after = 0;
  // Stacks shrunk during the cycle and the resident bytes they gave back.
  int64_t shrinks = 0;
  uint64_t released_bytes = 0;
  // Shrinks refused by IsShrinkStackSafe and deferred to the goroutine's next safe point,
  // and of those, how many for each of its reasons: in a blocking call, parking on a
  // channel, Waiting for GC while tracing.
  int64_t shrinks_deferred = 0;
  int64_t deferred_in_call = 0;
  int64_t deferred_parking_on_chan = 0;
  int64_t deferred_waiting_for_gc = 0;
};

// goro::gc::Collect runs one full collection cycle and returns its statistics. The world
// stops briefly to begin the cycle; then, with every other goroutine running, the calling
// goroutine visits each goroutine that existed at the start (goroutines created during the
// cycle need no scan): it suspends it through its scan bit (preempting it if it runs),
// scans its stack (bytes in use, frames walked, the root-scanning hook), shrinks it when
// IsShrinkStackSafe allows and gcshrinkstackoff is off (else the goroutine shrinks itself
// at its next safe point), and resumes it; it works in batches on its M's scheduler stack,
// Waiting for "garbage collection", and keeps to about a quarter of the CPU while other
// goroutines want to run. The world stops briefly again to end the cycle. Cycles are
// serialised: a second caller waits for the first to finish and then runs its own. While
// tracing, GCBegin and GCEnd bracket the cycle (they are written in the pauses), each
// pause is an STWBegin/STWEnd pair, and each shrink a StackShrink. With gctrace >= 1 it
// prints its line.
// Errors: FailedPrecondition when not called from a goroutine inside goro::Run.
// Thread safety: any goroutine.
absl::StatusOr<CycleStats> Collect();

// goro::gc::CyclesCompleted returns how many cycles have finished in this process
// (explicit and automatic). Thread safety: any thread (one relaxed load).
uint64_t CyclesCompleted();

// goro::gc::LastCycle returns the statistics of the most recent finished cycle, or
// NotFound before the first. Thread safety: any thread.
absl::StatusOr<CycleStats> LastCycle();

// goro::gc::DeferredShrinksDone returns how many deferred shrinks goroutines have carried
// out at their safe points so far. Thread safety: any thread (one relaxed load).
int64_t DeferredShrinksDone();

// goro::gc::CommittedStackBytes returns the resident bytes of all goroutine stacks now
// (one mincore per 64 MiB stack slab; a few microseconds for thousands of goroutines).
// Errors: FailedPrecondition outside goro::Run. Thread safety: any thread.
absl::StatusOr<uint64_t> CommittedStackBytes();

// goro::gc::RootScanHook is called once per scanned goroutine, with the goroutine's scan
// bit held by the collector (other goroutines keep running), with the live part of its stack
// [sp, hi): the root set a heap collector would scan conservatively. It must not block,
// allocate through goro, or keep the pointers past the call.
using RootScanHook = void (*)(void* arg, int64_t goid, uintptr_t sp, uintptr_t hi);

// goro::gc::SetRootScanHook installs `hook` (null removes it) for later cycles.
// Thread safety: any thread; a cycle in progress uses the hook it started with.
void SetRootScanHook(RootScanHook hook, void* arg);

}  // namespace goro::gc

#endif  // GORO_GC_GC_H_

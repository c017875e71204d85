// The automatic collection triggers (Go's forcegc period and GOGC goal, applied to stack
// memory): sysmon asks AutomaticCycleDue each round and, when it says yes, starts a
// goroutine running AutomaticCycleMain. Also RunCycle, the body shared with Collect.

#ifndef GORO_GC_PACER_H_
#define GORO_GC_PACER_H_

#include <cstdint>

#include "gc/gc.h"

namespace goro::gc_internal {

// gc_internal::kMinStackGoalBytes is the smallest committed-stack goal: below it the
// stack-goal trigger never fires (Go's heapminimum plays this part for the heap).
inline constexpr uint64_t kMinStackGoalBytes = uint64_t{64} << 20;

// gc_internal::PacerStart resets the triggers at the start of goro::Run: the period counts
// from `now_ns` and the goal starts at its minimum. Thread safety: Run's thread, before
// sysmon starts.
void PacerStart(int64_t now_ns);

// gc_internal::AutomaticCycleDue reports whether an automatic cycle should start now and
// why: gcperiod has passed since the last cycle ended, or committed stack memory exceeds
// the goal (committed after the last cycle, plus gcstackpercent, at least
// kMinStackGoalBytes). Committed memory is sampled with StackPool::CommittedBytes at most
// every 100 ms and at most 1% of the time (the interval grows to 100 times a sample's cost).
// When it returns true it also marks a cycle pending, so it returns false until that
// cycle has finished. Thread safety: sysmon only.
bool AutomaticCycleDue(int64_t now_ns, goro::gc::Trigger* trigger);

// gc_internal::AutomaticCycleMain is the body of the goroutine sysmon starts: `arg` is the
// Trigger cast to a pointer-sized integer. Runs one cycle and clears the pending mark.
void AutomaticCycleMain(void* arg);

// gc_internal::NoteCycleFinished records the end of any cycle (explicit or automatic) for
// the triggers. Thread safety: any thread.
void NoteCycleFinished(int64_t end_ns, uint64_t committed_after);

// gc_internal::RunCycle runs one cycle (goro::gc::Collect's body) and returns its
// statistics. Precondition: called from a goroutine inside goro::Run.
goro::gc::CycleStats RunCycle(goro::gc::Trigger trigger);

}  // namespace goro::gc_internal

#endif  // GORO_GC_PACER_H_

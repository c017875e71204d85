// The per-generation goroutine-status pass (Go's traceAdvance, steps "collect untraced
// goroutines" and "write their statuses"): every goroutine that no event mentions in a
// generation still gets a status in it, so a reader can start at any generation.
//
// How it stays correct without stopping the world. A G's trace_gen is the last generation
// that mentioned it; every event about a G marks it inside the bracket that also changes the
// G's status (emit.h). The pass runs in two halves around the generation switch:
//
//   1. Collect, before the advance publishes the next generation: for each G whose
//      trace_gen is older than the ending generation N, take its scan bit without waiting
//      (TrySuspendG: Runnable, Waiting and Syscall only), read its status and, through the
//      ownership check, its stack, then give the bit back.
//   2. Write, after every bracket of generation N has closed: for each collected G whose
//      trace_gen is *still* older than N, write the collected status into N's structural
//      batch, which a reader applies before any M's events of N.
//
// If trace_gen is still older than N at step 2, no event mentioned the G from the start of
// N until the switch, so its status did not change in that time (every status change is
// an event) and the collected status holds for the whole generation. If anything mentioned
// the G after collection — in N or already in N+1 — the pass drops it: either N has its
// status already, or the G simply appears in N+1 first (a single trace_gen cannot tell
// "mentioned in N and N+1" from "only N+1"; leaving a G out is harmless, writing a status
// that contradicts N's events is not).
//
// Running goroutines are not suspended (their own M owns their stack and mentions them at
// their next event), so a goroutine that runs a whole generation without an event is absent
// from it. A goroutine in a blocking call gets a status without a stack: goro does not save
// the SP at a blocking call (Go's syscallsp), so its frames are not walkable from outside.

#ifndef GORO_TRACER_STATUS_PASS_H_
#define GORO_TRACER_STATUS_PASS_H_

#include <cstdint>
#include <vector>

#include "tracer/batch.h"
#include "tracer/format.h"

namespace goro {
struct G;

namespace trace::internal {

// One goroutine's status as collected by the pass.
struct UntracedG {
  G* g;
  uint64_t goid;
  uint64_t m;  // trace M id for Running (Waiting-for-GC) and Syscall, else 0
  GoStatus status;
  uint64_t stack;  // id in the generation's stack table; 0 for none
  int64_t when;    // the trace clock at collection
};

// internal::CollectUntracedGoroutines is step 1 for generation `gen`. From a goroutine it
// moves that goroutine to Waiting (reason "trace goroutine status") and runs on the M's
// scheduler stack meanwhile, as Go's traceAdvance does; the caller itself is left out.
// Preconditions: `gen` is the current generation and tracing is on; the scheduler runs.
// Thread safety: one caller at a time (the advance, under the tracer's control mutex).
std::vector<UntracedG> CollectUntracedGoroutines(uint64_t gen);

// internal::WriteUntracedStatuses is step 2: appends GoStatus/GoStatusStack for the
// collected goroutines still unmentioned in `gen` to `structural` (a batch builder of
// `gen`) and returns how many it wrote.
// Preconditions: every acquire window of `gen` has closed; the stack table of `gen` has not
// been dumped yet.
// Thread safety: as CollectUntracedGoroutines.
int WriteUntracedStatuses(uint64_t gen, const std::vector<UntracedG>& collected,
                          BatchBuilder* structural);

}  // namespace trace::internal
}  // namespace goro

#endif  // GORO_TRACER_STATUS_PASS_H_

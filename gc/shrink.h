// Stack shrinking (Go's shrinkstack and its preemptShrink path). goro never moves a stack
// (C++ frames hold raw pointers into it), so a shrink returns to the kernel the committed
// pages below the goroutine's saved SP, minus the red zone and a margin (DESIGN.md 5); the
// goroutine keeps its address range and a later touch commits fresh zero pages.
//
// Who may shrink: the owner of the stack only (DESIGN.md 3): the holder of the goroutine's
// scan bit (the collector, while other goroutines run), or the goroutine's own M on its
// scheduler stack while the goroutine is Running (the deferred shrink at a safe point).
// When: only if IsShrinkStackSafe (runtime/g_status.h) says so; otherwise the collector
// sets G::preempt_shrink (with a preemption request) and the goroutine shrinks itself at its next safe point, as Go's
// scanstack/newstack do. gcshrinkstackoff=1 turns every shrink off.
//
// Why the Waiting-for-GC rule holds in goro, where nothing moves: a goroutine Waiting for
// GC is executing on its scheduler stack, and its own M may walk its frames for a trace
// event without the scan bit (DESIGN.md 4 rule 3). Those frames lie above the saved SP and
// a release only touches pages below it, so a walk and a release made while the saved SP
// is accurate never meet. The rule is kept because Go has it (since commit d6a3d093,
// "runtime: take a stack trace during tracing only when we own the stack") and because it
// costs nothing; runtime/park.h's CallOnSchedulerStackWaitingForGC is what keeps the
// saved SP accurate for as long as the goroutine is Waiting for GC.

#ifndef GORO_GC_SHRINK_H_
#define GORO_GC_SHRINK_H_

#include <cstdint>

#include "runtime/g.h"

namespace goro::gc_internal {

// gc_internal::ShrinkOutcome is what ShrinkStack did.
enum class ShrinkOutcome : uint8_t {
  kShrunk,     // pages were released
  kNothing,    // nothing committed below the release line
  kOff,        // gcshrinkstackoff=1
  kDeferred,   // IsShrinkStackSafe said no; G::preempt_shrink is set
};

// gc_internal::ShrinkResult: the outcome, the stack's committed bytes before and after,
// and for kDeferred the reason (a static string from WhyShrinkStackUnsafe).
struct ShrinkResult {
  ShrinkOutcome outcome = ShrinkOutcome::kNothing;
  uint64_t before = 0;
  uint64_t after = 0;
  const char* why_deferred = nullptr;
};

// gc_internal::ShrinkStack measures g's stack and shrinks it if that is allowed and worth
// it; `before`/`after` are its committed bytes either way (the cycle's accounting). The
// measurement is one mincore of the stack, or none when g has not run since the last one
// (G::gc_run_count): a goroutine that stayed parked costs no system call. A goroutine in a
// blocking call is measured afresh every time (it runs on its stack without being
// switched to). A shrink writes a StackShrink trace event (g, before, after).
// Preconditions: the caller owns g's stack (see the file comment) and g has a stack.
// Thread safety: as the preconditions.
ShrinkResult ShrinkStack(G* g);

// gc_internal::TrimDeadStack gives back everything below the top `keep` bytes of the stack
// of a dead goroutine (which keeps its stack for reuse; Go frees them in
// markrootFreeGStacks), measuring as ShrinkStack does. Returns the committed bytes before
// and after. Precondition: the caller holds the dead G (the free list's lock).
ShrinkResult TrimDeadStack(G* g, size_t keep);

// gc_internal::ShrinkOwnStackAtSafePoint carries out a deferred shrink (Go's newstack with
// preemptShrink): called by the scheduler on g's M's scheduler stack, g Running with its
// context saved. Clears G::preempt_shrink and shrinks when IsShrinkStackSafe now allows
// (else the flag stays set for a later safe point). gctrace=2 prints the result.
// Thread safety: g's own M only.
void ShrinkOwnStackAtSafePoint(G* g);

// gc_internal::ShrinkTracingRuleInEffect reports whether shrinking must treat tracing as
// on: the tracer is running and the test-only switch below has not removed the rule.
bool ShrinkTracingRuleInEffect();

// gc_internal::SetShrinkTracingRuleForTest(false) removes the tracing conjunct of
// IsShrinkStackSafe (a Waiting-for-GC goroutine is shrunk while tracing), for the test
// that shows what the rule changes. Default true. Thread safety: any thread.
void SetShrinkTracingRuleForTest(bool on);

// gc_internal::DeferredShrinksDoneCount is the counter behind
// goro::gc::DeferredShrinksDone.
int64_t DeferredShrinksDoneCount();

}  // namespace goro::gc_internal

#endif  // GORO_GC_SHRINK_H_

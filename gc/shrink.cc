// The shrinker: the policy around ReleaseStackBelow (runtime/stack.h), the deferred shrink
// at a safe point, and the test-only switch for the tracing rule.

#include "gc/shrink.h"

#include <atomic>

#include "absl/strings/str_format.h"
#include "runtime/g_status.h"
#include "runtime/settings.h"
#include "runtime/stack.h"
#include "tracer/emit.h"

namespace goro::gc_internal {
namespace {

// Atomic (relaxed): a test switch, read once per shrink decision.
std::atomic<bool> g_tracing_rule{true};
// Atomic (relaxed): a statistics counter.
std::atomic<int64_t> g_deferred_done{0};

}  // namespace

bool ShrinkTracingRuleInEffect() {
  return trace::internal::TracingOn() && g_tracing_rule.load(std::memory_order_relaxed);
}

void SetShrinkTracingRuleForTest(bool on) { g_tracing_rule.store(on, std::memory_order_relaxed); }

int64_t DeferredShrinksDoneCount() { return g_deferred_done.load(std::memory_order_relaxed); }

namespace {

// The committed bytes of g's stack and those below `line`, from G's cached measurement when
// g has not run since it was taken, else from one mincore (cached again if `cacheable`).
void Measure(G* g, uintptr_t line, bool cacheable, uint64_t* committed, uint64_t* below) {
  if (cacheable && g->gc_run_count == g->run_count) {
    *committed = g->gc_committed;
    *below = g->gc_below;
    return;
  }
  size_t b = 0;
  *committed = ResidentStackBytes(*g->stack, line, &b);
  *below = b;
  g->gc_run_count = cacheable ? g->run_count : G::kNeverMeasured;
  g->gc_committed = *committed;
  g->gc_below = *below;
}

// Releases the `below` bytes under `line` and records the result in the cache.
void Release(G* g, uintptr_t line, ShrinkResult* r, uint64_t below) {
  ReleaseStackPages(g->stack, line, below);
  r->outcome = ShrinkOutcome::kShrunk;
  r->after = r->before >= below ? r->before - below : 0;
  g->gc_committed = r->after;
  g->gc_below = 0;
}

}  // namespace

ShrinkResult ShrinkStack(G* g) {
  ShrinkResult r;
  Stack* stack = g->stack;
  const bool in_call = (ReadGStatus(g) & ~uint32_t{kGScan}) == kGSyscall;
  // In a blocking call the saved SP is stale: measure only (line at the bottom).
  // A goroutine stopped by the preemption signal ends at the interrupted SP, and the leaf it
  // was in may be using the red zone below it: StackReleaseEnd keeps that out.
  const uintptr_t line = in_call ? stack->lo() : StackReleaseEnd(*stack, StoppedFrameOf(g).sp);
  uint64_t below = 0;
  Measure(g, line, /*cacheable=*/!in_call, &r.before, &below);
  r.after = r.before;
  if (debug::gcshrinkstackoff.Get()) {
    r.outcome = ShrinkOutcome::kOff;
    return r;
  }
  if (const char* why = WhyShrinkStackUnsafe(g, ShrinkTracingRuleInEffect())) {
    // Go's scanstack: not now; the goroutine shrinks itself at its next safe point, which
    // the preemption request turns into a switch to the scheduler stack (Go's newstack).
    g->preempt_shrink.store(true, std::memory_order_relaxed);
    g->preempt.store(true, std::memory_order_relaxed);
    r.outcome = ShrinkOutcome::kDeferred;
    r.why_deferred = why;
    return r;
  }
  if (below == 0) return r;  // most parked goroutines: nothing below the line
  Release(g, line, &r, below);
  trace::internal::EventBracket t;
  t.StackShrink(g, r.before, r.after);
  return r;
}

ShrinkResult TrimDeadStack(G* g, size_t keep) {
  ShrinkResult r;
  Stack* stack = g->stack;
  if (stack->size() <= keep) return r;
  const uintptr_t line = StackReleaseEnd(*stack, stack->hi() - keep, 0);
  uint64_t below = 0;
  Measure(g, line, /*cacheable=*/true, &r.before, &below);
  r.after = r.before;
  if (below != 0 && !debug::gcshrinkstackoff.Get()) Release(g, line, &r, below);
  return r;
}

void ShrinkOwnStackAtSafePoint(G* g) {
  if (!g->preempt_shrink.load(std::memory_order_relaxed)) return;
  const char* why = WhyShrinkStackUnsafe(g, ShrinkTracingRuleInEffect());
  if (why != nullptr) return;  // Still unsafe (parking on a channel): a later safe point.
  g->preempt_shrink.store(false, std::memory_order_relaxed);
  const ShrinkResult r = ShrinkStack(g);
  g_deferred_done.fetch_add(1, std::memory_order_relaxed);
  if (debug::gctrace.Get() >= 2) {
    absl::FPrintF(stderr, "gc: goroutine %d shrank its own stack at a safe point: %d -> %d bytes\n",
                  g->id, r.before, r.after);
  }
}

}  // namespace goro::gc_internal

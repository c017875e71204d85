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

ShrinkResult ShrinkStack(G* g, const StackResidency* residency) {
  ShrinkResult r;
  Stack* stack = g->stack;
  if (residency != nullptr) {
    r.before = residency->ResidentBytes(stack->lo(), stack->hi());
    r.after = r.before;
  }
  if (debug::gcshrinkstackoff.Get()) {
    r.outcome = ShrinkOutcome::kOff;
    return r;
  }
  if (const char* why = WhyShrinkStackUnsafe(g, ShrinkTracingRuleInEffect())) {
    // Go's scanstack: not now; the goroutine shrinks itself at its next safe point.
    g->preempt_shrink.store(true, std::memory_order_relaxed);
    r.outcome = ShrinkOutcome::kDeferred;
    r.why_deferred = why;
    return r;
  }
  // Safe: g is not in a blocking call, so its saved SP is where its frames end.
  const uintptr_t sp = g->context.SavedSp();
  // The snapshot answers "is anything committed below the line" without a system call;
  // most parked goroutines have nothing there.
  if (residency != nullptr && residency->ResidentBytes(stack->lo(), StackReleaseEnd(*stack, sp)) == 0) {
    return r;
  }
  if (residency == nullptr) r.before = ResidentStackBytes(*stack);
  const size_t released = ReleaseStackBelow(stack, sp);
  if (released == 0) {
    r.after = r.before;
    return r;
  }
  r.outcome = ShrinkOutcome::kShrunk;
  r.after = r.before >= released ? r.before - released : 0;
  trace::internal::EventBracket t;
  t.StackShrink(g, r.before, r.after);
  return r;
}

void ShrinkOwnStackAtSafePoint(G* g) {
  if (!g->preempt_shrink.load(std::memory_order_relaxed)) return;
  const char* why = WhyShrinkStackUnsafe(g, ShrinkTracingRuleInEffect());
  if (why != nullptr) return;  // Still unsafe (parking on a channel): a later safe point.
  g->preempt_shrink.store(false, std::memory_order_relaxed);
  const ShrinkResult r = ShrinkStack(g, nullptr);
  g_deferred_done.fetch_add(1, std::memory_order_relaxed);
  if (debug::gctrace.Get() >= 2) {
    absl::FPrintF(stderr, "gc: goroutine %d shrank its own stack at a safe point: %d -> %d bytes\n",
                  g->id, r.before, r.after);
  }
}

}  // namespace goro::gc_internal

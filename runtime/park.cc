// The goroutine's side of the scheduler protocol (park.h): a G leaves a request in its M
// and switches to the M's scheduler stack, where the scheduling policy (scheduler.cc)
// carries the request out with the G's context saved.

#include "runtime/park.h"

#include "absl/base/optimization.h"
#include "base/fatal.h"
#include "base/no_preempt.h"
#include "runtime/g_status.h"
#include "runtime/m.h"
#include "runtime/safe_point.h"
#include "runtime/sched.h"

namespace goro::runtime_internal {

namespace {

// Lowers the no-preemption depth Execute raised for the way back (sanitizer builds,
// kDepthAcrossResume). Out of line so that the thread-local's address is computed afresh:
// the goroutine may now run on another thread than the one that switched away.
__attribute__((noipa)) void LowerDepthAfterSwitch() { base_internal::NoPreemptExit(); }

// Leaves `action` in the M and switches to its scheduler stack. From the store of the
// request until HandleAction has taken it, M::action is not kNone, and the preemption
// handler refuses to stop the goroutine (it would overwrite the request); the swap itself
// is refused by PC. Fields the request uses (park_reason, sched_fn, ...) are written before
// it and nothing else writes them, so a preemption before the store leaves them intact.
void SwitchWithRequest(M* m, MAction action) {
  G* g = CurrentG();
  m->action = action;
  // For the handler on this thread: the request is in memory before the swap begins.
  std::atomic_signal_fence(std::memory_order_seq_cst);
  SwitchContext(&g->context, &m->g0);
  if constexpr (kDepthAcrossResume) LowerDepthAfterSwitch();
}

}  // namespace

// SafePoint's slow path: a request is pending. (If the preemption handler honours a
// request between the check and the switch, the switch finds it gone: HandleAction treats a
// preempt-park whose request was withdrawn as a no-op.)
ABSL_ATTRIBUTE_NOINLINE void SafePointSlow(G* g, Sched* s) {
  if (g->preempt_stop.load(std::memory_order_relaxed)) {
    SwitchWithRequest(CurrentM(), MAction::kPreemptPark);
    return;
  }
  if (g->preempt.load(std::memory_order_relaxed) ||
      s->gcwaiting.load(std::memory_order_relaxed)) {
    g->preempt.store(false, std::memory_order_relaxed);
    SwitchWithRequest(CurrentM(), MAction::kPreempt);
  }
  if (s->shutting_down.load(std::memory_order_relaxed)) {
    // The program is over: this goroutine never runs again (as when a Go program exits).
    Park(WaitReason::kZero, nullptr, nullptr);
  }
}

void SwitchToScheduler(MAction action) { SwitchWithRequest(CurrentM(), action); }

void Park(WaitReason reason, ParkCommit commit, void* arg) {
  M* m = CurrentM();
  m->park_reason = reason;
  m->park_commit = commit;
  m->park_arg = arg;
  SwitchWithRequest(m, MAction::kPark);
}

void Yield() { SwitchToScheduler(MAction::kYield); }

void SafePoint() {
  G* g = CurrentG();
  if (g == nullptr) return;
  SafePointOf(g);
}


void CallOnSchedulerStack(void (*fn)(void*), void* arg) {
  M* m = CurrentM();
  m->sched_fn = fn;
  m->sched_arg = arg;
  SwitchWithRequest(m, MAction::kCallOnSchedStack);
}

namespace {

// What CallOnSchedulerStackWaitingForGC hands to the scheduler stack. It lives in the
// caller's frame, above the G's saved SP, so a scan-bit holder that releases pages below
// that SP never touches it.
struct WaitingForGCCall {
  G* g;
  WaitReason reason;
  void (*fn)(void*);
  void* arg;
};

void RunWaitingForGC(void* p) {
  const auto* call = static_cast<const WaitingForGCCall*>(p);
  G* g = call->g;
  void (*fn)(void*) = call->fn;
  void* arg = call->arg;
  CasGToWaitingForGC(g, kGRunning, call->reason);
  fn(arg);
  CasGStatus(g, kGWaiting, kGRunning);
}

}  // namespace

void CallOnSchedulerStackWaitingForGC(WaitReason reason, void (*fn)(void*), void* arg) {
  G* g = CurrentG();
  if (g == nullptr) GORO_FATAL("CallOnSchedulerStackWaitingForGC called outside a goroutine");
  WaitingForGCCall call{g, reason, fn, arg};
  CallOnSchedulerStack(RunWaitingForGC, &call);
}

}  // namespace goro::runtime_internal

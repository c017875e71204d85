// The goroutine's side of the scheduler protocol (park.h): a G leaves a request in its M
// and switches to the M's scheduler stack, where the scheduling policy (scheduler.cc)
// carries the request out with the G's context saved.

#include "runtime/park.h"

#include "absl/base/optimization.h"
#include "base/fatal.h"
#include "base/no_preempt.h"
#include "runtime/g_status.h"
#include "runtime/m.h"
#include "runtime/sched.h"

namespace goro::runtime_internal {

namespace {

// Lowers the no-preemption depth once a switch to the scheduler stack has come back. Out of
// line so that the thread-local's address is computed afresh: the goroutine may now run on
// another thread than the one that raised it.
__attribute__((noipa)) void LowerDepthAfterSwitch() { base_internal::NoPreemptExit(); }

// The switch to the scheduler stack, with the no-preemption depth already raised by the
// caller before it wrote its request into the M: the preemption handler must not stop the
// G between the request and the switch (it would overwrite M::action), nor in the switch
// itself. HandleAction lowers the depth on the scheduler stack; Execute raises it again
// for the way back, and it is lowered here.
void SwitchWithDepthRaised(M* m, MAction action) {
  G* g = CurrentG();
  m->action = action;
  SwitchContext(&g->context, &m->g0);
  LowerDepthAfterSwitch();
}

// SafePoint's slow path: a request is pending. The depth is raised before the requests
// are read again, so that the handler cannot honour one of them in between (a suspender
// it served could otherwise be followed by a second, unrequested Preempted park).
ABSL_ATTRIBUTE_NOINLINE void SafePointSlow(G* g, Sched* s) {
  base_internal::NoPreemptEnter();
  if (g->preempt_stop.load(std::memory_order_relaxed)) {
    SwitchWithDepthRaised(CurrentM(), MAction::kPreemptPark);
    return;
  }
  if (g->preempt.load(std::memory_order_relaxed) ||
      s->gcwaiting.load(std::memory_order_relaxed)) {
    g->preempt.store(false, std::memory_order_relaxed);
    SwitchWithDepthRaised(CurrentM(), MAction::kPreempt);
  } else {
    base_internal::NoPreemptExit();
  }
  if (s->shutting_down.load(std::memory_order_relaxed)) {
    // The program is over: this goroutine never runs again (as when a Go program exits).
    Park(WaitReason::kZero, nullptr, nullptr);
  }
}

}  // namespace

void SwitchToScheduler(MAction action) {
  base_internal::NoPreemptEnter();
  SwitchWithDepthRaised(CurrentM(), action);
}

void Park(WaitReason reason, ParkCommit commit, void* arg) {
  base_internal::NoPreemptEnter();
  M* m = CurrentM();
  m->park_reason = reason;
  m->park_commit = commit;
  m->park_arg = arg;
  SwitchWithDepthRaised(m, MAction::kPark);
}

void Yield() { SwitchToScheduler(MAction::kYield); }

void SafePoint() {
  G* g = CurrentG();
  if (g == nullptr) return;
  Sched* s = sched();
  if (ABSL_PREDICT_FALSE(g->preempt_stop.load(std::memory_order_relaxed) ||
                         g->preempt.load(std::memory_order_relaxed) ||
                         s->gcwaiting.load(std::memory_order_relaxed) ||
                         s->shutting_down.load(std::memory_order_relaxed))) {
    SafePointSlow(g, s);
  }
}

void CallOnSchedulerStack(void (*fn)(void*), void* arg) {
  base_internal::NoPreemptEnter();
  M* m = CurrentM();
  m->sched_fn = fn;
  m->sched_arg = arg;
  SwitchWithDepthRaised(m, MAction::kCallOnSchedStack);
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

// The goroutine's side of the scheduler protocol (park.h): a G leaves a request in its M
// and switches to the M's scheduler stack, where the scheduling policy (scheduler.cc)
// carries the request out with the G's context saved.

#include "runtime/park.h"

#include "absl/base/optimization.h"
#include "base/fatal.h"
#include "runtime/g_status.h"
#include "runtime/m.h"
#include "runtime/sched.h"

namespace goro::runtime_internal {

void SwitchToScheduler(MAction action) {
  G* g = CurrentG();
  M* m = CurrentM();
  m->action = action;
  SwitchContext(&g->context, &m->g0);
}

void Park(WaitReason reason, ParkCommit commit, void* arg) {
  M* m = CurrentM();
  m->park_reason = reason;
  m->park_commit = commit;
  m->park_arg = arg;
  SwitchToScheduler(MAction::kPark);
}

void Yield() { SwitchToScheduler(MAction::kYield); }

void SafePoint() {
  G* g = CurrentG();
  if (g == nullptr) return;
  if (ABSL_PREDICT_FALSE(g->preempt_stop.load(std::memory_order_relaxed))) {
    SwitchToScheduler(MAction::kPreemptPark);
    return;
  }
  Sched* s = sched();
  if (ABSL_PREDICT_FALSE(g->preempt.load(std::memory_order_relaxed) ||
                         s->gcwaiting.load(std::memory_order_relaxed))) {
    g->preempt.store(false, std::memory_order_relaxed);
    SwitchToScheduler(MAction::kYield);
  }
  if (ABSL_PREDICT_FALSE(s->shutting_down.load(std::memory_order_relaxed))) {
    // The program is over: this goroutine never runs again (as when a Go program exits).
    Park(WaitReason::kZero, nullptr, nullptr);
  }
}

void CallOnSchedulerStack(void (*fn)(void*), void* arg) {
  M* m = CurrentM();
  m->sched_fn = fn;
  m->sched_arg = arg;
  SwitchToScheduler(MAction::kCallOnSchedStack);
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

// Stop-the-world (Go's stopTheWorldWithSema / startTheWorldWithSema), in runtime:core so
// that the tracer and the collector can stop the world without depending on the
// scheduling policy. The stopper runs on its M's scheduler stack while it waits, so that
// it is never a Running G that another stopper (or SuspendG) would wait for.
//
// Stopping: under the scheduler lock, set gcwaiting, stop the stopper's own P and every
// idle P; take every P in a blocking call with a CAS (Syscall -> GCStop); then ask the G
// on each remaining P to reach a safe point (g->preempt) and sleep on stopnote until the
// last P has stopped itself (the scheduler's GcStopM, or EnterSyscall seeing gcwaiting).
// Starting: clear gcwaiting; Ps with queued work go to Ms (Sched::policy.start_m), the
// rest to the idle list; then wake a spinning M in case work arrived meanwhile.

#include "runtime/world.h"

#include <vector>

#include "base/fatal.h"
#include "runtime/g_status.h"
#include "runtime/park.h"
#include "runtime/preempt.h"
#include "runtime/sched.h"

namespace goro::runtime_internal {

namespace {

void StopTheWorldOnSchedStack(void* arg) {
  Sched* s = sched();
  M* self = CurrentM();
  // The caller is Waiting with the Waiting-for-GC reason kStoppingTheWorld and M::curg is
  // still it: the tracer may capture its stack (DESIGN.md 4, rule 3).
  if (const TraceHooks* hooks = TraceHooksIfOn()) {
    hooks->stw_begin(static_cast<int>(*static_cast<const STWReason*>(arg)));
  }
  {
    base_internal::OsMutexLock lock(&s->mu);
    s->stopwait = s->nprocs;
    s->gcwaiting.store(true, std::memory_order_release);
    P* mine = self->p.load(std::memory_order_relaxed);
    mine->status.store(kPGCStop, std::memory_order_release);
    s->stopwait--;
    while (P* p = PidleGetLocked(s)) {
      p->status.store(kPGCStop, std::memory_order_release);
      s->stopwait--;
    }
  }
  for (auto& p : s->allp) {
    uint32_t expected = kPSyscall;
    // The steal is stamped after seeing the P in its blocking call and before the CAS
    // (runtime/trace_hooks.h, proc_steal).
    if (p->status.load(std::memory_order_acquire) != kPSyscall) continue;
    const TraceHooks* hooks = TraceHooksIfOn();
    const int64_t when = hooks != nullptr ? hooks->trace_now() : 0;
    if (p->status.compare_exchange_strong(expected, kPGCStop, std::memory_order_acq_rel)) {
      if (hooks != nullptr) {
        hooks->proc_steal(p.get(), p->m.load(std::memory_order_relaxed), when);
      }
      base_internal::OsMutexLock lock(&s->mu);
      p->m.store(nullptr, std::memory_order_relaxed);
      s->stopwait--;
    }
  }
  for (;;) {
    {
      base_internal::OsMutexLock lock(&s->mu);
      if (s->stopwait == 0) break;
    }
    // Ask every running G to reach a safe point, and signal its M in case it runs without
    // reaching one (Go's preemptall, repeated every 100 us until every P has stopped).
    for (auto& p : s->allp) {
      if (M* pm = p->m.load(std::memory_order_relaxed)) {
        if (G* cg = pm->curg.load(std::memory_order_relaxed)) {
          cg->preempt.store(true, std::memory_order_relaxed);
          PreemptM(pm);
        }
      }
    }
    s->stopnote.SleepUntil(NanoTime() + 100000);
    s->stopnote.Clear();
  }
  s->stopnote.Clear();
}

void StartTheWorldOnSchedStack(void*) {
  Sched* s = sched();
  M* self = CurrentM();
  P* mine = self->p.load(std::memory_order_relaxed);
  std::vector<P*> with_work;
  {
    base_internal::OsMutexLock lock(&s->mu);
    s->gcwaiting.store(false, std::memory_order_release);
    mine->status.store(kPRunning, std::memory_order_release);
    for (auto& p : s->allp) {
      if (p.get() == mine) continue;
      if (p->status.load(std::memory_order_relaxed) != kPGCStop) continue;
      if (!p->runq.Empty()) {
        p->status.store(kPIdle, std::memory_order_release);
        with_work.push_back(p.get());
      } else {
        PidlePutLocked(s, p.get());
      }
    }
  }
  for (P* p : with_work) s->policy.start_m(s, p, false);
  s->policy.wake_p();
  if (const TraceHooks* hooks = TraceHooksIfOn()) hooks->stw_end();
}

}  // namespace

void StopTheWorld(STWReason reason) {
  G* g = CurrentG();
  if (g == nullptr) GORO_FATAL("StopTheWorld must be called from a goroutine");
  Sched* s = sched();
  // One stopper at a time (Go's worldsema): later ones yield until the world restarts.
  while (s->stw_active.exchange(true, std::memory_order_acquire)) Yield();
  // A time-slice request is moot now: this goroutine is about to stop every other one, and
  // yielding here would put it behind them (into the pause) for a whole slice. Requests
  // from suspenders are honoured by the safe point.
  g->preempt.store(false, std::memory_order_relaxed);
  SafePoint();
  // Waiting for GC while it stops the others, so that a concurrent SuspendG (the tracer's
  // status pass) never waits for it (Go's stopTheWorld).
  CallOnSchedulerStackWaitingForGC(WaitReason::kStoppingTheWorld, StopTheWorldOnSchedStack,
                                   &reason);
}

void StartTheWorld() {
  CallOnSchedulerStack(StartTheWorldOnSchedStack, nullptr);
  // Release: the next stopper sees everything this one did with the world stopped.
  sched()->stw_active.store(false, std::memory_order_release);
}

bool WorldStopped() {
  Sched* s = sched();
  return s != nullptr && s->gcwaiting.load(std::memory_order_acquire);
}

}  // namespace goro::runtime_internal

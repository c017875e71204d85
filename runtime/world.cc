// Stop-the-world (Go's stopTheWorldWithSema / startTheWorldWithSema), in runtime:core so
// that the tracer and the collector can stop the world without depending on the
// scheduling policy. The stopper runs on its M's scheduler stack while it waits, so that
// it is never a Running G that another stopper (or SuspendG) would wait for.
//
// Stopping: under the scheduler lock, set gcwaiting, stop the stopper's own P and every
// idle P; take every P in a blocking call with a CAS (Syscall -> GCStop); then ask the G
// on each remaining P to reach a safe point (g->preempt) and sleep on stopnote until the
// last P has stopped itself (the scheduler's GcStopM, or EnterSyscall seeing gcwaiting).
// While it waits, the stopper first spins (kStopSpinNs) and only then sleeps on stopnote: on
// a VM a futex wake-up of a thread whose CPU has gone idle costs 20-200 us, more than the
// rest of the stop (docs/gc.md, "Pauses").
// Starting: clear gcwaiting; Ps with queued work go to Ms (Sched::policy.start_m), the
// rest to the idle list; then, if goroutines wait where no started P will look (the global
// queue, the stopper's own P), wake a spinning M for them. With nothing queued, no M is
// woken: a goroutine readied later wakes one itself (Ready and the blocking-call exit put
// to the global queue under the scheduler lock, after which they see the idle Ps).

#include "runtime/world.h"

#include <vector>

#include "base/fatal.h"
#include "runtime/g_status.h"
#include "runtime/park.h"
#include "runtime/preempt.h"
#include "runtime/sched.h"
#include "runtime/spin_lock.h"

namespace goro::runtime_internal {

namespace {

// How long the stopper spins, after asking the running Ps to stop, before it sleeps: long
// enough for a goroutine that is on a CPU to take the signal and hand its P over (10-30 us
// measured here), short enough not to matter when the M that must stop is waiting for a
// CPU (then the stopper's CPU is better given up: a longer spin, or one that called
// sched_yield, made pauses with CPU-bound goroutines longer, not shorter).
constexpr int64_t kStopSpinNs = 30 * 1000;

// Spins until stopnote is woken or kStopSpinNs have passed; returns whether it was woken.
bool SpinForStop(Sched* s) {
  const int64_t deadline = NanoTime() + kStopSpinNs;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (s->stopnote.woken()) return true;
      CpuRelax();
    }
    if (NanoTime() >= deadline) return s->stopnote.woken();
  }
}

// A P that StartM handed to an idle M which has not woken up yet (not in Go, which waits
// for that M, and on a VM a thread's wake-up alone can take 50-250 us): stop-the-world
// takes it back. The M finds no P when it wakes and parks again (StopM); the P's queued
// goroutines stay in its queue for StartTheWorld. (A P that StartLockedM hands to the M of
// a locked goroutine is waited for, as in Go.) Called in every round of the stop.
void TakeBackHandedPsLocked(Sched* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu) {
  for (auto& p : s->allp) {
    M* waking = p->handed_to;
    if (waking == nullptr) continue;
    p->handed_to = nullptr;
    waking->nextp = nullptr;
    if (waking->spinning) {
      waking->spinning = false;
      s->nmspinning.fetch_sub(1, std::memory_order_relaxed);
    }
    p->status.store(kPGCStop, std::memory_order_release);
    s->stopwait--;
  }
}

void StopTheWorldOnSchedStack(void* arg) {
  Sched* s = sched();
  M* self = CurrentM();
  P* mine = self->p.load(std::memory_order_relaxed);
  // The caller is Waiting with the Waiting-for-GC reason kStoppingTheWorld and M::curg is
  // still it: the tracer may capture its stack (DESIGN.md 4, rule 3).
  if (const TraceHooks* hooks = TraceHooksIfOn()) {
    hooks->stw_begin(static_cast<int>(*static_cast<const STWReason*>(arg)));
  }
  {
    base_internal::OsMutexLock lock(&s->mu);
    s->stopwait = s->nprocs;
    s->gcwaiting.store(true, std::memory_order_release);
    mine->status.store(kPGCStop, std::memory_order_release);
    s->stopwait--;
    while (P* p = PidleGetLocked(s)) {
      p->status.store(kPGCStop, std::memory_order_release);
      s->stopwait--;
    }
    TakeBackHandedPsLocked(s);
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
      TakeBackHandedPsLocked(s);
      if (s->stopwait == 0) break;
    }
    // Ask every running G to reach a safe point, and signal its M in case it runs without
    // reaching one (Go's preemptall, repeated every 100 us until every P has stopped). The
    // stopper's own P is stopped already; M::curg there is the stopper.
    for (auto& p : s->allp) {
      if (p.get() == mine) continue;
      if (M* pm = p->m.load(std::memory_order_relaxed)) {
        if (G* cg = pm->curg.load(std::memory_order_relaxed)) {
          cg->preempt.store(true, std::memory_order_relaxed);
          PreemptM(pm);
        }
      }
    }
    const int64_t round_end = NanoTime() + 100000;
    if (!SpinForStop(s)) s->stopnote.SleepUntil(round_end);
    s->stopnote.Clear();
  }
  s->stopnote.Clear();
}

void StartTheWorldOnSchedStack(void* arg) {
  Sched* s = sched();
  M* self = CurrentM();
  P* mine = self->p.load(std::memory_order_relaxed);
  std::vector<P*> with_work;
  bool unclaimed_work = false;
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
    unclaimed_work = s->runq_size.load(std::memory_order_relaxed) > 0 || !mine->runq.Empty();
  }
  for (P* p : with_work) s->policy.start_m(s, p, false);
  *static_cast<int64_t*>(arg) = NanoTime();  // Go's startTime
  if (const TraceHooks* hooks = TraceHooksIfOn()) hooks->stw_end();
  if (unclaimed_work) s->policy.wake_p();
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

int64_t StartTheWorld() {
  int64_t started = 0;
  CallOnSchedulerStack(StartTheWorldOnSchedStack, &started);
  // Release: the next stopper sees everything this one did with the world stopped.
  sched()->stw_active.store(false, std::memory_order_release);
  return started;
}

bool WorldStopped() {
  Sched* s = sched();
  return s != nullptr && s->gcwaiting.load(std::memory_order_acquire);
}

}  // namespace goro::runtime_internal

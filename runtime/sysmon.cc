// Sysmon (Go's sysmon): a thread without a P that retakes Ps from long blocking calls, asks
// long-running goroutines to yield, runs overdue timers, and prints schedtrace.

#include "runtime/sysmon.h"

#include "gc/pacer.h"
#include "runtime/checkdead.h"
#include "runtime/preempt.h"
#include "runtime/scheduler.h"
#include "runtime/settings.h"
#include "tracer/emit.h"

namespace goro::runtime_internal {
namespace {

constexpr int64_t kMinDelayNs = 20 * 1000;         // 20 us, as in Go
constexpr int64_t kMaxDelayNs = 10 * 1000 * 1000;  // 10 ms
constexpr int64_t kForcePreemptNs = 10 * 1000 * 1000;
// While some P runs goroutines, sysmon sleeps at most this long, so that a time slice is
// seen to be used up at most this late (a goroutine that runs without a safe point is then
// preempted 10 to 12 ms into its slice; Go's sysmon can be up to 10 ms late).
constexpr int64_t kBusyMaxDelayNs = 2 * 1000 * 1000;

// Go's retake: returns how many Ps it took back; *busy says whether some P is running
// goroutines or is in a blocking call.
int Retake(Sched* s, int64_t now, bool* busy) {
  int taken = 0;
  *busy = false;
  for (auto& owned : s->allp) {
    P* p = owned.get();
    uint32_t status = p->status.load(std::memory_order_acquire);
    if (status == kPSyscall) {
      *busy = true;  // its blocking call may need retaking within a tick
      uint32_t t = p->syscalltick.load(std::memory_order_relaxed);
      if (p->sysmon_syscalltick != t) {
        p->sysmon_syscalltick = t;
        p->sysmon_syscallwhen = now;
        continue;
      }
      // Seen in the same blocking call for a whole tick. Keep it only when there is no
      // other work and someone is already spinning or idle to pick up work that arrives.
      bool no_work = p->runq.Empty() && s->runq_size.load(std::memory_order_relaxed) == 0;
      if (no_work &&
          s->nmspinning.load(std::memory_order_relaxed) + s->npidle.load(std::memory_order_relaxed) > 0 &&
          now - p->sysmon_syscallwhen < kMaxDelayNs) {
        continue;
      }
      uint32_t expected = kPSyscall;
      bool stolen;
      {
        // Stamped before the CAS (runtime/trace_hooks.h, proc_steal). The bracket is closed
        // before the handoff: sysmon's brackets take a mutex and must not nest.
        trace::internal::EventBracket tr;
        const int64_t when = tr.Now();
        stolen = p->status.compare_exchange_strong(expected, kPIdle, std::memory_order_acq_rel);
        if (stolen) tr.ProcSteal(p, p->m.load(std::memory_order_relaxed), when);
      }
      if (stolen) {
        p->m.store(nullptr, std::memory_order_relaxed);
        p->syscalltick.store(t + 1, std::memory_order_relaxed);
        HandoffPForSysmon(s, p);
        taken++;
      }
    } else if (status == kPRunning) {
      *busy = true;
      uint32_t t = p->schedtick.load(std::memory_order_relaxed);
      if (p->sysmon_schedtick != t) {
        p->sysmon_schedtick = t;
        p->sysmon_schedwhen = now;
      } else if (now - p->sysmon_schedwhen >= kForcePreemptNs) {
        // Go's preemptone: a request for the next safe point, and the signal for a G that
        // runs without reaching one (at most one in flight per M).
        if (M* m = p->m.load(std::memory_order_relaxed)) {
          if (G* g = m->curg.load(std::memory_order_relaxed)) {
            g->preempt.store(true, std::memory_order_relaxed);
            PreemptM(m);
          }
        }
      }
    }
  }
  return taken;
}

void* SysmonMain(void* arg) {
  Sched* s = static_cast<Sched*>(arg);
  int64_t delay = kMinDelayNs;
  int idle_rounds = 0;
  int64_t last_trace = s->start_ns;
  for (;;) {
    if (s->sysmon_stop.SleepUntil(NanoTime() + delay)) return nullptr;
    int64_t now = NanoTime();
    if (NextTimerDeadline() <= now) RunTimers();
    bool busy = false;
    int taken = Retake(s, now, &busy);
    if (taken > 0) {
      idle_rounds = 0;
      delay = kMinDelayNs;
    } else if (++idle_rounds > 50) {
      delay = std::min(delay * 2, busy ? kBusyMaxDelayNs : kMaxDelayNs);
    }
    if (busy && delay > kBusyMaxDelayNs) delay = kBusyMaxDelayNs;
    // The automatic collection triggers (Go's forcegchelper, woken by sysmon): the cycle
    // runs in a goroutine of its own, since a cycle must be run by a goroutine.
    gc::Trigger why;
    if (!s->shutting_down.load(std::memory_order_relaxed) &&
        gc_internal::AutomaticCycleDue(now, &why)) {
      NewProc(gc_internal::AutomaticCycleMain,
              reinterpret_cast<void*>(static_cast<uintptr_t>(why)));
    }
    CheckDead(s);  // Go's checkdead: exits if every goroutine is blocked for good
    int64_t period = goro::debug::schedtrace.GetNanoseconds();
    if (period > 0) {
      if (delay > period) delay = period;
      if (now - last_trace >= period) {
        last_trace = now;
        PrintSchedTrace(goro::debug::scheddetail.Get());
      }
    }
  }
}

}  // namespace

void StartSysmon(Sched* s) {
  gc_internal::PacerStart(s->start_ns);
  int err = pthread_create(&s->sysmon_thread, nullptr, SysmonMain, s);
  if (err != 0) GORO_FATAL("sysmon: pthread_create failed: errno ", err);
  g_threads_unjoined.fetch_add(1, std::memory_order_relaxed);
}

void StopSysmon(Sched* s) {
  s->sysmon_stop.Wakeup();
  pthread_join(s->sysmon_thread, nullptr);
  g_threads_unjoined.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace goro::runtime_internal

// The G/M/P scheduler's shared state and internal entry points (Go's schedt, sched, and the
// functions of proc.go). Glossary:
//   G   a goroutine (g.h);  M  an OS thread running Gs, with a scheduler stack (m.h);
//   P   the right to run Gs, with a local run queue (p.h);
//   safe point  a place where a G can be stopped: park, yield, channel and sync
//       operations, spawn, blocking-call boundaries (goro preempts cooperatively);
//   STW stop-the-world: every P stopped at a safe point or in a blocking call;
//   scan bit  the status-word bit whose holder owns a G's stack (g_status.h).
// docs/scheduler.md has the long form.

#ifndef GORO_RUNTIME_SCHEDULER_H_
#define GORO_RUNTIME_SCHEDULER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "base/mutex.h"
#include "runtime/g.h"
#include "runtime/m.h"
#include "runtime/note.h"
#include "runtime/p.h"
#include "runtime/stack_pool.h"

namespace goro::runtime_internal {

// runtime_internal::TimerHeap: the pending timers of one runtime (timers.cc), a min-heap
// on (deadline, sequence). Timers of abandoned goroutines die with the runtime.
struct Timer;
struct TimerHeap {
  Mutex mu;
  std::vector<Timer*> heap ABSL_GUARDED_BY(mu);
  uint64_t seq ABSL_GUARDED_BY(mu) = 0;
  // Atomic: the earliest deadline (INT64_MAX: none), written under mu, read lock-free.
  std::atomic<int64_t> next{INT64_MAX};
};

// runtime_internal::Sched is the one scheduler of a running goro::Run (Go's schedt plus
// allp and allgs). Created by Run, destroyed when Run returns.
struct Sched {
  // Constant while the runtime runs.
  int32_t nprocs = 0;
  std::vector<std::unique_ptr<P>> allp;
  std::unique_ptr<StackPool> stacks;

  // The scheduler lock (Go's sched.lock). Held briefly; never across a switch.
  Mutex mu;
  // --- Begin mu-protected members ---
  G* runq_head ABSL_GUARDED_BY(mu) = nullptr;  // global run queue
  G* runq_tail ABSL_GUARDED_BY(mu) = nullptr;
  P* pidle ABSL_GUARDED_BY(mu) = nullptr;      // idle Ps
  M* midle ABSL_GUARDED_BY(mu) = nullptr;      // idle Ms
  int32_t nmidle ABSL_GUARDED_BY(mu) = 0;
  G* gfree ABSL_GUARDED_BY(mu) = nullptr;      // dead Gs for reuse
  int32_t stopwait ABSL_GUARDED_BY(mu) = 0;    // Ps still to stop for STW
  // --- End mu-protected members ---
  // Atomic: mirrors of mu-protected counts for lock-free checks (written under mu).
  std::atomic<int32_t> runq_size{0};
  std::atomic<int32_t> npidle{0};
  std::atomic<int32_t> nmspinning{0};
  // Atomic: a stop-the-world is in progress (Go's sched.gcwaiting); Ms stop their Ps at
  // the next scheduling point.
  std::atomic<bool> gcwaiting{false};
  // Atomic: a goroutine owns stop-the-world (Go's worldsema); acquire/release pairs order
  // one stopper's work before the next's.
  std::atomic<bool> stw_active{false};
  // The stopper sleeps here until stopwait reaches 0.
  Note stopnote;

  // Every G ever created (Go's allgs), for STW, dumps and the collector.
  Mutex allg_mu;
  std::vector<G*> allgs ABSL_GUARDED_BY(allg_mu);
  std::vector<std::unique_ptr<G>> gstore ABSL_GUARDED_BY(allg_mu);  // owns the Gs

  // Every M (never freed while the runtime runs).
  Mutex allm_mu;
  std::vector<std::unique_ptr<M>> allm ABSL_GUARDED_BY(allm_mu);

  // Atomic counters.
  std::atomic<int64_t> next_goid{1};
  std::atomic<int64_t> next_mid{0};
  std::atomic<int64_t> live_goroutines{0};  // created and not yet Dead
  std::atomic<bool> shutting_down{false};

  // Pending timers (Sleep and friends).
  TimerHeap timers;

  // Sysmon.
  Note sysmon_stop;
  pthread_t sysmon_thread{};
  int64_t start_ns = 0;  // Constant: NanoTime() at Run.
};

// runtime_internal::sched is the running scheduler, or null outside goro::Run.
// Atomic: set (release) by Run before any M starts, cleared after every M stopped.
extern std::atomic<Sched*> g_sched;
inline Sched* sched() { return g_sched.load(std::memory_order_acquire); }

// runtime_internal::NewProc creates a goroutine running fn(arg) and queues it on the
// current P (Go's newproc). destroy, if not null, releases arg: after fn returns, or at
// shutdown if the goroutine was abandoned before finishing. Returns the new G. Must be
// called inside goro::Run.
G* NewProc(void (*fn)(void*), void* arg, void (*destroy)(void*) = nullptr);

// runtime_internal::CallOnSchedulerStack runs fn(arg) on the M's scheduler stack and
// returns to the calling goroutine (Go's systemstack). The G's status is unchanged.
void CallOnSchedulerStack(void (*fn)(void*), void* arg);

// runtime_internal::WakeP starts an M for an idle P if work may be waiting and nobody is
// spinning (Go's wakep).
void WakeP();

// Blocking calls (Go's entersyscall / exitsyscall).
void EnterSyscall();
void ExitSyscall();

// Stop-the-world (Go's stopTheWorld / startTheWorld). StopTheWorld is called from a
// goroutine: it moves itself to Waiting-for-GC (reason kStoppingTheWorld) while it stops
// every other P, then returns Running with the world stopped and its own P held.
void StopTheWorld();
void StartTheWorld();
// runtime_internal::WorldStopped reports whether a StopTheWorld is in effect.
bool WorldStopped();

// Timers (timers.cc): fn(arg) runs on some M (without a P held, or with one) once
// `when_ns` (NanoTime clock) has passed. The record must stay alive until it has run.
struct Timer {
  int64_t when_ns = 0;
  void (*fn)(void* arg) = nullptr;
  void* arg = nullptr;
  uint64_t seq = 0;  // Protected by the timer lock: FIFO among equal deadlines.
};
void AddTimer(Timer* t);
// Runs every expired timer; returns the deadline of the next one (INT64_MAX: none).
int64_t RunTimers();
int64_t NextTimerDeadline();

// Used by Run and sysmon: run the scheduler loop on the calling thread's M until shutdown;
// hand a P retaken from a blocking call to another M (Go's handoffp).
void RunSchedulerOnThisThread(M* m);
void HandoffPForSysmon(Sched* s, P* p);

// Schedtrace output (schedtrace.cc), printed by sysmon every `schedtrace` period.
void PrintSchedTrace(bool detail);

}  // namespace goro::runtime_internal

#endif  // GORO_RUNTIME_SCHEDULER_H_

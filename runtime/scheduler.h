// The scheduling policy's internal entry points (Go's proc.go above the primitives of
// sched.h): spawning, readying, blocking calls, timers, and the loop each M runs.
// The shared state and its glossary are in sched.h.

#ifndef GORO_RUNTIME_SCHEDULER_H_
#define GORO_RUNTIME_SCHEDULER_H_

#include <cstdint>

#include "runtime/g.h"
#include "runtime/park.h"
#include "runtime/sched.h"
#include "runtime/world.h"

namespace goro::runtime_internal {

// runtime_internal::NewProc creates a goroutine running fn(arg) and queues it on the
// current P (Go's newproc). destroy, if not null, releases arg: after fn returns, or at
// shutdown if the goroutine was abandoned before finishing. Returns the new G. Must be
// called inside goro::Run.
G* NewProc(void (*fn)(void*), void* arg, void (*destroy)(void*) = nullptr);

// runtime_internal::Ready makes a Waiting G runnable (Go's goready/ready): CAS Waiting ->
// Runnable and put it in the current P's runnext slot (so a woken partner runs soon), or
// on the global run queue when the caller has no P; wakes an idle P if there is one.
// Precondition: g is Waiting and the caller is responsible for readying it (it took g off
// the wait queue under that queue's lock).
// Thread safety: any thread (goroutine or not).
void Ready(G* g);

// runtime_internal::WakeP starts an M for an idle P if work may be waiting and nobody is
// spinning (Go's wakep).
void WakeP();

// Blocking calls (Go's entersyscall / exitsyscall).
void EnterSyscall();
void ExitSyscall();

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

// runtime_internal::SchedulerPolicy returns the entry points core code calls back into
// (Sched::policy); Run installs them before the first goroutine.
SchedPolicy SchedulerPolicy();

// Used by Run and sysmon: run the scheduler loop on the calling thread's M until shutdown;
// hand a P retaken from a blocking call to another M (Go's handoffp).
void RunSchedulerOnThisThread(M* m);
void HandoffPForSysmon(Sched* s, P* p);

// Schedtrace output (schedtrace.cc), printed by sysmon every `schedtrace` period.
void PrintSchedTrace(bool detail);

}  // namespace goro::runtime_internal

#endif  // GORO_RUNTIME_SCHEDULER_H_

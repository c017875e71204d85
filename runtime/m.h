// goro::M: an OS thread that runs goroutines, with its scheduler stack (Go's m and g0).

#ifndef GORO_RUNTIME_M_H_
#define GORO_RUNTIME_M_H_

#include <pthread.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>

#include "runtime/arch/context_switch.h"
#include "runtime/g.h"
#include "runtime/note.h"
#include "runtime/park.h"
#include "runtime/trace_hooks.h"

namespace goro {

struct P;

// goro::MAction tells the scheduler stack why a G switched to it (Go passes a function to
// mcall; goro records the request in the M and switches).
enum class MAction : uint8_t {
  kNone,
  kPark,             // Park(): to Waiting, then the commit function
  kYield,            // Yield(): to Runnable on the local queue
  kPreempt,          // a preemption request (time slice, stop-the-world): to Runnable on
                     // the global queue, behind everything already waiting (gopreempt_m)
  kExit,             // the G's function returned: to Dead
  kPreemptPark,      // SuspendG asked the G to stop: to Preempted
  kExitSyscallNoP,   // back from a blocking call without a P: to Runnable, M stops
  kCallOnSchedStack, // run a function on the scheduler stack and come back (systemstack)
};

// goro::M is one OS thread of the runtime.
struct M {
  // Constant after construction.
  int64_t id = 0;
  // Constant after the thread starts.
  pthread_t thread{};
  // Atomic: the thread's kernel id (gettid), for the preemption signal (tgkill). Written
  // (release) by the thread as it starts, before it runs any goroutine; 0 before.
  std::atomic<pid_t> tid{0};

  // Owner: this M's thread. The scheduler stack (Go's g0): the thread's own stack.
  Context g0;

  // Owner: this M. The G it runs (Running or Syscall), or null on the scheduler stack
  // between Gs. Atomic because schedtrace/STW read it from other threads (relaxed).
  std::atomic<G*> curg{nullptr};

  // Owner: this M (or under the scheduler lock while the M is idle). Its P.
  std::atomic<P*> p{nullptr};
  // Protected by the scheduler lock: the P handed to this idle M before waking it.
  P* nextp = nullptr;
  // Owner: this M. The P it held before a blocking call (Go's oldp).
  P* oldp = nullptr;

  // Owner: this M; while the M is idle, under the scheduler lock (StartM sets it with
  // nextp, stop-the-world clears both when it takes the P back). Spinning: looking for
  // work with a P but none found yet.
  bool spinning = false;

  // Protected by the scheduler lock: next M on the idle list; whether on it.
  M* schedlink = nullptr;
  bool idle = false;

  // Where an idle M sleeps.
  runtime_internal::Note park;

  // Owner: the G running on this M, then this M's scheduler stack. The request a G leaves
  // when it switches to the scheduler stack.
  MAction action = MAction::kNone;
  WaitReason park_reason = WaitReason::kZero;
  runtime_internal::ParkCommit park_commit = nullptr;
  void* park_arg = nullptr;
  void (*sched_fn)(void*) = nullptr;
  void* sched_arg = nullptr;

  // Owner: this M. Cheap per-M random state (steal order, select).
  uint64_t rand_state = 0;

  // Owner: this M. The goroutine locked to this M (Go's lockedg), or null: the M runs no
  // other goroutine; when the G blocks or yields, the M hands its P off and sleeps until
  // the G is scheduled again (runtime/scheduler.cc, StopLockedM / StartLockedM).
  G* lockedg = nullptr;

  // Atomic: a preemption signal has been sent to this M and its handler has not run yet
  // (Go's m.signalPending): at most one in flight. Set by PreemptM with a CAS (acq_rel, so
  // that only one sender signals), cleared by the handler (relaxed).
  std::atomic<bool> preempt_signal_pending{false};
  // Atomic (relaxed): statistics of the preemption handler on this M.
  std::atomic<uint64_t> preempt_signals{0};  // handler runs
  std::atomic<uint64_t> async_preempts{0};   // of those, goroutines it stopped

  // Atomic (relaxed): set while the M is in a blocking call (schedtrace reports it).
  std::atomic<bool> in_syscall{false};
  // The tracer's buffers and seqlock for this M (runtime/trace_hooks.h says who owns what).
  runtime_internal::TraceThreadState trace;
};

namespace runtime_internal {

// runtime_internal::CurrentM returns the calling thread's M, or null for threads the
// runtime did not start. Not inlined: a goroutine may resume on another thread, and the
// compiler must not keep a thread-local address across the switch (DESIGN.md 8).
M* CurrentM();
void SetCurrentM(M* m);

// runtime_internal::FastRand returns a pseudo-random 32-bit number from the current M's
// state (any thread; non-M threads share a fallback).
uint32_t FastRand();

}  // namespace runtime_internal
}  // namespace goro

#endif  // GORO_RUNTIME_M_H_

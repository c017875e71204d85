// The goroutine's side of the scheduler protocol, for runtime code (channels, sync, timers,
// stop-the-world): park the running goroutine, yield, the safe-point check, and running a
// function on the scheduler stack (Go's gopark, Gosched, systemstack). Readying a parked G
// is scheduling policy: Ready in scheduler.h.

#ifndef GORO_RUNTIME_PARK_H_
#define GORO_RUNTIME_PARK_H_

#include "runtime/arch/sanitizer.h"
#include "runtime/g.h"
#include "runtime/wait_reason.h"

namespace goro::runtime_internal {

struct Sched;

// runtime_internal::kDepthAcrossResume says whether the switch from the scheduler stack to
// a goroutine holds the no-preemption depth (base/no_preempt.h) until the goroutine's side
// of the switch has returned. In sanitizer builds that side does sanitizer bookkeeping on
// the goroutine's stack after the swap, which the handler must not interrupt; in plain
// builds the swap is one assembly function whose code the handler refuses by PC, and the
// resume costs nothing. (The switch *to* the scheduler stack is covered by M::action: from
// the store of the request until HandleAction takes it, the handler refuses.)
inline constexpr bool kDepthAcrossResume = GORO_ASAN || GORO_TSAN;

// runtime_internal::ParkCommit runs on the M's scheduler stack after the parking G has
// moved to Waiting (Go's unlockf). Typically it releases the lock that protects the wait
// queue the G was put on. Returning false resumes the G at once (it goes back to Runnable
// and runs next), as when the awaited event happened in the meantime.
using ParkCommit = bool (*)(G* g, void* arg);

// runtime_internal::Park blocks the calling goroutine (Go's gopark): it switches to the
// M's scheduler stack, emits the trace event with the G's stack before the status CAS,
// moves the G Running -> Waiting(reason), then calls commit(g, arg) (if not null). The G
// stays Waiting until someone calls Ready(g). Returns when the G runs again (possibly on
// another M).
// Precondition: called from a goroutine. Any lock the G holds that a Ready() caller needs
// must be released by `commit`, never before Park (that would lose wakeups).
// Thread safety: the calling goroutine only.
void Park(WaitReason reason, ParkCommit commit, void* arg);

// runtime_internal::Yield makes the calling goroutine Runnable at the back of its P's run
// queue and runs others (Go's Gosched, which uses the global queue instead).
// Precondition: called from a goroutine.
void Yield();

// runtime_internal::SafePoint honours pending preemption and stop-the-world requests of
// the calling goroutine (cheap when there are none: one relaxed load). Every blocking
// primitive calls it on entry. Precondition: called from a goroutine.
void SafePoint();

// runtime_internal::SafePointSlow carries out the request SafePointOf (safe_point.h) found
// pending. Precondition: g is the calling goroutine; s is sched().
void SafePointSlow(G* g, Sched* s);


// runtime_internal::CallOnSchedulerStack runs fn(arg) on the M's scheduler stack and
// returns to the calling goroutine (Go's systemstack). The G's status is unchanged; fn
// must not park or switch. Precondition: called from a goroutine.
void CallOnSchedulerStack(void (*fn)(void*), void* arg);

// runtime_internal::CallOnSchedulerStackWaitingForGC runs fn(arg) on the M's scheduler
// stack with the calling goroutine Waiting for `reason`, a Waiting-for-GC reason (Go's
// `systemstack(func() { casGToWaitingForGC(gp, _Grunning, reason); fn(); casgstatus(gp,
// _Gwaiting, _Grunning) })`). Both transitions are made on the scheduler stack, after the
// switch saved the G's context and before the switch back: so for as long as the G is
// Waiting its saved context describes every live frame, and whoever takes its scan bit
// (a collector, the tracer's status pass) may walk it or release the pages below its saved
// SP. Making the first transition on the G's own stack would leave a window in which the
// G is Waiting while still running below a stale saved SP.
// fn must not park or switch; it may wait for other goroutines (stop the world, suspend
// them), which is what the Waiting status is for: two such callers can take each other's
// stacks instead of waiting for each other. Fatal unless IsWaitingForGC(reason).
// Precondition: called from a Running goroutine. Thread safety: the calling goroutine only.
void CallOnSchedulerStackWaitingForGC(WaitReason reason, void (*fn)(void*), void* arg);

}  // namespace goro::runtime_internal

#endif  // GORO_RUNTIME_PARK_H_

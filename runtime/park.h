// The scheduler's internal blocking API for runtime code (channels, sync, timers): park the
// running goroutine, ready a parked one, yield, and the safe-point check (Go's gopark,
// goready, Gosched).

#ifndef GORO_RUNTIME_PARK_H_
#define GORO_RUNTIME_PARK_H_

#include "runtime/g.h"
#include "runtime/wait_reason.h"

namespace goro::runtime_internal {

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

// runtime_internal::Ready makes a Waiting G runnable (Go's goready/ready): CAS Waiting ->
// Runnable and put it in the current P's runnext slot (so a woken partner runs soon), or
// on the global run queue when the caller has no P; wakes an idle P if there is one.
// Precondition: g is Waiting and the caller is responsible for readying it (it took g off
// the wait queue under that queue's lock).
// Thread safety: any thread (goroutine or not).
void Ready(G* g);

// runtime_internal::Yield puts the calling goroutine at the back of the global run queue
// and runs others (Go's Gosched). Precondition: called from a goroutine.
void Yield();

// runtime_internal::SafePoint honours pending preemption and stop-the-world requests of
// the calling goroutine (cheap when there are none: one relaxed load). Every blocking
// primitive calls it on entry. Precondition: called from a goroutine.
void SafePoint();

}  // namespace goro::runtime_internal

#endif  // GORO_RUNTIME_PARK_H_

// Deadlock detection (Go's checkdead): when every goroutine is blocked on goro's primitives
// and nothing can wake any of them, the process ends with Go's message and exit status.

#ifndef GORO_RUNTIME_CHECKDEAD_H_
#define GORO_RUNTIME_CHECKDEAD_H_

#include <cstdint>

namespace goro::runtime_internal {

struct Sched;

// runtime_internal::CheckDead looks once for a deadlock in `s`; sysmon calls it every tick.
// The runtime is dead when, in one consistent view taken under the scheduler lock and the
// allgs lock, every P is idle, the global run queue and every local one are empty, no
// timer is pending or being run, and every goroutine that is not Dead is Waiting for a
// reason other than a Waiting-for-GC one or "preempted"; and when no thread outside goro's
// own (its Ms, sysmon, the tracer's advancer, the service threads of sched.h) exists that
// could wake a goroutine through the any-thread operations (TrySend, Close, Unlock,
// Notify, ...). When two consecutive calls see such a
// view, with the same scheduling counters, goroutine ids and goroutine counts in both, it
// prints
//
//   goro: all goroutines are asleep - deadlock!
//
//   goroutine 1 [chan receive]:
//   goroutine 7 [sync.Mutex.Lock]:
//
// (one line per blocked goroutine, with its wait reason) and the non-default GORODEBUG
// settings to stderr, flushes stdio, and exits with status 2 (Go's exit status for a fatal
// error), without running destructors or atexit handlers. Never fires after main returned
// (the remaining goroutines are abandoned then, not deadlocked). Detection is off while
// the process has threads goro did not start (/proc/self/status "Threads:"), since any of
// them may be about to wake a goroutine, as Go's checkdead is off for programs with cgo
// callbacks; it is also off when /proc cannot be read.
// Precondition: called by sysmon (the only caller; its state lives in checkdead.cc).
// Thread safety: sysmon's thread only.
void CheckDead(Sched* s);

// runtime_internal::CheckDeadCallsForTest returns how many times CheckDead has run in this
// process, so that a test can wait until the detector has looked at a state (at least two
// more calls than before: one view and its confirmation) instead of sleeping.
// Thread safety: thread-safe (one relaxed load).
uint64_t CheckDeadCallsForTest();

}  // namespace goro::runtime_internal

#endif  // GORO_RUNTIME_CHECKDEAD_H_

// goro's lock order: one rank per lock, one table, and the run-time check that enforces it
// when GORODEBUG lockrankcheck=1 (Go's lockrank.go, mklockrank.go and lockrank_on.go).
//
// The order, outermost first. A thread may acquire a lock only while every lock it already
// holds has a lower rank (the enumerators below are in that order), except for the pairs that
// kLockRankAllowed declares. Why each lock sits where it does:
//
//   kControlServer     control/server.h Server::mu_: the connection list of the control
//                      socket. Its accept thread joins connection threads under it and
//                      nothing else; outermost so that a handler may do anything.
//   kControlHandlers   control/handlers.cc Table::mu: the stream producers (goroutine dump,
//                      flight recorder) a connection calls while it holds this lock; those
//                      walk allg, start and stop the tracer, and symbolise.
//   kGcCycle           gc/cycle.cc g_mu: the collector's last-cycle stats and root hook. A
//                      cycle stops the world and walks allg, so it comes before them.
//   kTraceControl      tracer/trace.cc g_control_mu (Go's trace.lock in its role of
//                      serialising StartTrace/StopTrace): a start or stop walks every M and
//                      G, emits events and flushes buffers under it.
//   kAllm              Sched::allm_mu (Go's allm, guarded by sched.lock in Go): NewM takes the
//                      scheduler lock inside it to return a P when the runtime shuts down.
//   kHchan             ChanCore::lock_ (Go's hchan.lock): a channel operation readies the
//                      goroutine it hands a value to while it holds the channel, which takes
//                      the scheduler lock and may emit a trace event. select locks all its
//                      channels in address order, so kHchan nests in itself (declared).
//   kSyncWait          the wait-list SpinLocks of goro::Mutex, RWMutex, Cond, WaitGroup and
//                      Notification (Go's semaphore root lock, semaRoot.lock): readies
//                      waiters under it, as channels do.
//   kTimers            TimerHeap::mu (Go's timers lock): AddTimer never holds it while it
//                      wakes an idle M; RunTimers readies a goroutine after dropping it.
//   kSched             Sched::mu (Go's sched.lock): the global run queue, idle Ps and Ms,
//                      the dead-G list. Held briefly; below it only allg, stacks and the
//                      tracer.
//   kAllg              Sched::allg_mu (Go's allglock, also below sched.lock in Go): a new G
//                      is published under it; dumps and the collector copy the list out
//                      under it; checkdead walks it while it holds the scheduler lock.
//   kStackPool         StackPool::mu_ (Go's stackpool / stackLarge locks).
//   kStackGuard        runtime/stack_guard.cc g_registry_mu: guarded stack ranges (a leaf).
//   kTraceOrphan       TraceState::orphan_mu: the event window of a thread without an M.
//                      Windows open inside scheduler and channel critical sections.
//   kTraceFull         TraceState::full_mu (Go's trace.lock in its role of guarding the full
//                      and free buffer lists): an event window that fills its buffer takes it.
//   kTraceStacks       StackTable shard mu (Go's traceStackTab lock): a new stack interns its
//                      frames' function and file names in the string table under it.
//   kTraceStrings      StringTable::mu_ (Go's traceStrings lock).
//   kTraceClock        tracer/clock.cc g_decision_mu: the clock choice, made once (a leaf).
//   kSymbolizer        symbolize/symbolizer.h Symbolizer::mu_: libdwfl's session. It calls
//                      into libdw and the demangler, never back into goro.
//   kDebugvars         debugvars Registry::mu_: subscribers run after it is released, so it
//                      is a leaf; settings are read without it.
//
// Locks outside this table: the tracer session's wake_mu (a std::mutex that pairs with a
// std::condition_variable, tracer/session.h) is a leaf that guards one flag, and goroutine
// locks (goro::Mutex) park rather than spin and are the program's business, as in Go.
//
// Held ranks are kept per OS thread, not per goroutine: goro's locks are never held across a
// goroutine switch, except a SpinLock that a goroutine takes before it parks and that the
// Park commit releases on the same thread's scheduler stack.

#ifndef GORO_BASE_LOCK_RANK_H_
#define GORO_BASE_LOCK_RANK_H_

#include <atomic>
#include <cstdint>

namespace goro::base_internal {

// base_internal::LockRank is a lock's place in the order; see the essay above. If you add a
// lock, give it a rank here and a name in lock_rank.cc in the same commit.
enum class LockRank : uint8_t {
  kControlServer = 1,
  kControlHandlers,
  kGcCycle,
  kTraceControl,
  kAllm,
  kHchan,
  kSyncWait,
  kTimers,
  kSched,
  kAllg,
  kStackPool,
  kStackGuard,
  kTraceOrphan,
  kTraceFull,
  kTraceStacks,
  kTraceStrings,
  kTraceClock,
  kSymbolizer,
  kDebugvars,
  // For tests only: two ranks with no meaning but their order (tests/lock_rank_test.cc).
  kTestFirst,
  kTestSecond,
};

// base_internal::LockRankName returns the rank's name ("sched", "hchan", ...), or "?".
// Async-signal-safe.
const char* LockRankName(LockRank rank);

// base_internal::kMaxHeldLocks is how many locks one thread may hold at once while the check
// is on; more is fatal (select over many channels is the deepest nesting).
inline constexpr int kMaxHeldLocks = 64;

// Atomic (relaxed): whether acquisitions are checked. Only a flag: the held lists it starts
// filling are each owned by their thread, so nothing needs ordering against it.
inline std::atomic<bool> g_lock_rank_check{false};

// base_internal::LockRankCheckOn: one relaxed load, the whole cost of the check when off.
inline bool LockRankCheckOn() { return g_lock_rank_check.load(std::memory_order_relaxed); }

// base_internal::SetLockRankCheck turns the check on or off (the lockrankcheck setting's
// subscriber, runtime/settings.cc). Turn it on before other threads take locks: a lock taken
// while it was off is not in its thread's held list, and its release is ignored.
// Thread safety: thread-safe.
void SetLockRankCheck(bool on);

// base_internal::LockRankAcquire checks that the calling thread may take `lock` of `rank`
// given the locks it holds, then records it as held. Call it before blocking on the lock, so
// that an order violation is reported instead of deadlocking. A violation is fatal and names
// both locks (rank name, rank number, address) and every lock the thread holds.
// Thread safety: the calling thread's list only. Async-signal-safe.
void LockRankAcquire(LockRank rank, const void* lock);

// base_internal::LockRankTryAcquired records a lock taken by a successful TryLock. A try-lock
// cannot wait, so it is not checked (as in Go); the locks taken after it are. Never fatal.
void LockRankTryAcquired(LockRank rank, const void* lock);

// base_internal::LockRankRelease removes `lock` from the calling thread's held list (which
// need not be the most recent one: select unlocks its channels in address order). A lock not
// in the list (taken while the check was off) is ignored.
// Thread safety: the calling thread's list only. Async-signal-safe.
void LockRankRelease(const void* lock);

// base_internal::HeldLockCount returns how many locks the calling thread holds in its list
// (for tests).
int HeldLockCount();

}  // namespace goro::base_internal

#endif  // GORO_BASE_LOCK_RANK_H_

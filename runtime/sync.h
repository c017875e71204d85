// goro's sync primitives for goroutines (Go's package sync): Mutex, WaitGroup, Cond and a
// one-shot Notification. Blocking parks the goroutine, never its OS thread.

#ifndef GORO_RUNTIME_SYNC_H_
#define GORO_RUNTIME_SYNC_H_

#include <atomic>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "runtime/spin_lock.h"

namespace goro {
namespace runtime_internal {

// runtime_internal::SyncWaiter is one goroutine parked on a sync primitive (Go's sudog in
// a semaphore root); it lives in the parked goroutine's frame. Defined in sync.cc.
struct SyncWaiter;

// runtime_internal::SyncWaitList is a FIFO of SyncWaiters.
// Thread safety: protected by the owning primitive's SpinLock.
class SyncWaitList {
 public:
  void PushBack(SyncWaiter* w);
  SyncWaiter* PopFront();                 // null if empty
  SyncWaiter* TakeAll();                  // the whole list, linked through `next`
  SyncWaiter* RemoveTicket(uint32_t t);   // the waiter holding ticket t, or null
  bool empty() const { return head_ == nullptr; }

 private:
  // Protected by the owning primitive's wait_lock_: the oldest and newest waiters.
  SyncWaiter* head_ = nullptr;
  SyncWaiter* tail_ = nullptr;
};

}  // namespace runtime_internal

// The primitives live in goro::sync (read it as Go's package sync), an inline namespace:
// goro::Mutex, goro::MutexLock, goro::WaitGroup, goro::Cond and goro::Notification name
// them too. (The runtime's own OS-thread lock is base_internal::OsMutex, base/mutex.h.)
inline namespace sync {

// goro::Mutex (goro::sync::Mutex) is a mutual-exclusion lock for goroutines (Go's
// sync.Mutex). A goroutine that finds it held spins briefly, then parks (wait reason
// "sync.Mutex.Lock"); its OS thread runs other goroutines meanwhile. Once goroutines
// wait, Unlock hands the lock to the longest waiter directly (FIFO; no barging), so
// waiters never starve. Not recursive; not tied to a goroutine (as in Go, one goroutine
// may Lock and another Unlock).
// The zero state is unlocked; a Mutex must not be copied or moved.
//
// Memory ordering: an Unlock() happens-before the Lock() (or successful TryLock()) that
// next acquires the mutex.
//
// Thread safety: thread-safe. Lock() may park, so it must be called from a goroutine;
// TryLock() and Unlock() may be called from any thread.
class ABSL_LOCKABLE Mutex {
 public:
  constexpr Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  // goro::sync::Mutex::Lock acquires the mutex, parking until it is free. The fast path is one
  // CAS; the contended path is a safe point.
  // Precondition: called from a goroutine that does not hold the mutex (that would
  // deadlock, as in Go). Off a goroutine, a Lock that finds the mutex held is fatal ("goro:
  // goro::Mutex::Lock called from a thread that is not running a goroutine"); the
  // uncontended fast path does not check, so an uncontended Lock there goes unnoticed.
  // Thread safety: thread-safe.
  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    uint32_t expected = 0;
    // Acquire: pairs with the release that ended the previous hold.
    if (state_.compare_exchange_strong(expected, kLocked, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
      return;
    }
    LockSlow();
  }

  // goro::sync::Mutex::TryLock acquires the mutex if it is free (and nobody waits for it) and
  // returns true; otherwise returns false at once (Go's TryLock).
  // Thread safety: thread-safe; any thread.
  bool TryLock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) {
    uint32_t expected = 0;
    // Acquire: as in Lock().
    return state_.compare_exchange_strong(expected, kLocked, std::memory_order_acquire,
                                          std::memory_order_relaxed);
  }

  // goro::sync::Mutex::Unlock releases the mutex, handing it to the first waiter if there is
  // one. Fatal if the mutex is not locked ("sync: unlock of unlocked mutex").
  // Precondition: the mutex is locked (by any goroutine or thread).
  // Thread safety: thread-safe; any thread.
  void Unlock() ABSL_UNLOCK_FUNCTION() {
    uint32_t expected = kLocked;
    // Release: publishes the critical section to the next Lock().
    if (state_.compare_exchange_strong(expected, 0, std::memory_order_release,
                                       std::memory_order_relaxed)) {
      return;
    }
    UnlockSlow();
  }

 private:
  static constexpr uint32_t kLocked = 1;   // held
  static constexpr uint32_t kWaiters = 2;  // waiters_ is not empty (set under wait_lock_)

  void LockSlow();
  void UnlockSlow();

  // Atomic: kLocked | kWaiters. Acquired by CAS (acquire), released by CAS or store
  // (release). kWaiters changes only under wait_lock_; while it is set the lock passes
  // from Unlock straight to the first waiter, so kLocked never clears.
  std::atomic<uint32_t> state_{0};
  runtime_internal::SpinLock wait_lock_{base_internal::LockRank::kSyncWait};
  runtime_internal::SyncWaitList waiters_ ABSL_GUARDED_BY(wait_lock_);
};

// goro::sync::MutexLock holds a goro::sync::Mutex for its scope (absl::MutexLock's shape).
// Thread safety: not shared; one holder per scope. Construct it on a goroutine.
class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) { mu_->Lock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }

 private:
  Mutex* const mu_;
};

// goro::sync::WaitGroup waits for a collection of goroutines to finish (Go's sync.WaitGroup):
// Add(n) before starting n of them, Done() as each finishes, Wait() until the counter is
// zero. A WaitGroup may be reused once every Wait of the previous round has returned.
//
// Memory ordering: every Add/Done happens-before the return of a Wait that observes the
// counter at zero (as Go: Done "synchronizes before" the return of any Wait it unblocks).
//
// Thread safety: thread-safe. Wait() must be called from a goroutine (it may park); Add
// and Done may be called from any thread.
class WaitGroup {
 public:
  constexpr WaitGroup() = default;
  WaitGroup(const WaitGroup&) = delete;
  WaitGroup& operator=(const WaitGroup&) = delete;

  // goro::sync::WaitGroup::Add adds delta (which may be negative) to the counter; when it
  // reaches zero, every waiter is released. Fatal if the counter goes negative ("sync:
  // negative WaitGroup counter") or if a positive Add from zero races with a Wait
  // ("sync: WaitGroup misuse: Add called concurrently with Wait").
  // Thread safety: thread-safe; any thread.
  void Add(int32_t delta);

  // goro::sync::WaitGroup::Done decrements the counter by one (Add(-1)).
  // Thread safety: thread-safe; any thread.
  void Done() { Add(-1); }

  // goro::sync::WaitGroup::Wait returns once the counter is zero, parking until then (wait
  // reason "sync.WaitGroup.Wait"). A safe point.
  // Precondition: called from a goroutine; fatal from any other thread, even when the
  // counter is already zero.
  // Thread safety: thread-safe.
  void Wait();

 private:
  // Atomic: counter (signed, high 32 bits) | number of parked waiters (low 32 bits), as
  // Go's WaitGroup.state. Add uses acq_rel RMWs; Wait loads with acquire and registers
  // as a waiter by CAS under wait_lock_; the waker resets it to 0 under wait_lock_.
  std::atomic<uint64_t> state_{0};
  runtime_internal::SpinLock wait_lock_{base_internal::LockRank::kSyncWait};
  runtime_internal::SyncWaitList waiters_ ABSL_GUARDED_BY(wait_lock_);
};

// goro::sync::Cond is a condition variable over a goro::sync::Mutex (Go's sync.Cond): Wait()
// unlocks the mutex, parks until Signal()/Broadcast(), and relocks it before returning. As in Go,
// wakeups are not spurious but the condition may have changed again by the time Wait
// returns; check it in a loop.
//
// Memory ordering: a Signal() or Broadcast() happens-before the return of each Wait() it
// wakes; Wait() then also acquires the mutex.
//
// Thread safety: thread-safe. Wait() must be called from a goroutine holding the mutex;
// Signal() and Broadcast() may be called from any thread, with or without the mutex.
class Cond {
 public:
  // goro::sync::Cond::Cond binds the condition to *mu, which must outlive it.
  // Thread safety: n/a (construction).
  explicit Cond(Mutex* mu) : mu_(mu) {}
  Cond(const Cond&) = delete;
  Cond& operator=(const Cond&) = delete;

  // goro::sync::Cond::Wait atomically unlocks the mutex and parks (wait reason
  // "sync.Cond.Wait") until a Signal or Broadcast that comes after the unlock; then
  // locks the mutex again. A safe point.
  // Precondition: called from a goroutine that holds the mutex; fatal from any other
  // thread.
  // Thread safety: thread-safe.
  void Wait();

  // goro::sync::Cond::Signal wakes the goroutine that has waited longest, if any.
  // Thread safety: thread-safe; any thread.
  void Signal();

  // goro::sync::Cond::Broadcast wakes every waiting goroutine.
  // Thread safety: thread-safe; any thread.
  void Broadcast();

 private:
  // Constant after construction.
  Mutex* const mu_;
  // Atomic: the next ticket to hand a waiter (Go's notifyList.wait); a waiter takes one
  // (seq-cst RMW) while it still holds the mutex.
  std::atomic<uint32_t> wait_{0};
  // Atomic: the next ticket to notify (Go's notifyList.notify). Written under wait_lock_;
  // read without it (seq-cst) by the fast "nobody to wake" check.
  std::atomic<uint32_t> notify_{0};
  runtime_internal::SpinLock wait_lock_{base_internal::LockRank::kSyncWait};
  runtime_internal::SyncWaitList waiters_ ABSL_GUARDED_BY(wait_lock_);
};

// goro::sync::Notification is a one-shot event (absl::Notification's shape, for goroutines):
// Notify() once; WaitForNotification() returns once it has been notified.
//
// Memory ordering: Notify() happens-before the return of every WaitForNotification()
// and every HasBeenNotified() that returns true.
//
// Thread safety: thread-safe. WaitForNotification() must be called from a goroutine;
// Notify() and HasBeenNotified() may be called from any thread.
class Notification {
 public:
  constexpr Notification() = default;
  Notification(const Notification&) = delete;
  Notification& operator=(const Notification&) = delete;

  // goro::sync::Notification::Notify marks the notification and wakes every waiter. Fatal if
  // called twice.
  // Thread safety: thread-safe; any thread.
  void Notify();

  // goro::sync::Notification::HasBeenNotified reports whether Notify() has been called.
  // Thread safety: thread-safe; any thread.
  bool HasBeenNotified() const {
    // Acquire: pairs with the release store in Notify().
    return notified_.load(std::memory_order_acquire);
  }

  // goro::sync::Notification::WaitForNotification returns once Notify() has been called,
  // parking until then (wait reason "sync.Cond.Wait", the closest of Go's reasons). A
  // safe point.
  // Precondition: called from a goroutine; fatal from any other thread, even when already
  // notified.
  // Thread safety: thread-safe.
  void WaitForNotification();

 private:
  // Atomic: set once, with release, under wait_lock_; read with acquire.
  std::atomic<bool> notified_{false};
  runtime_internal::SpinLock wait_lock_{base_internal::LockRank::kSyncWait};
  runtime_internal::SyncWaitList waiters_ ABSL_GUARDED_BY(wait_lock_);
};

}  // namespace sync
}  // namespace goro

#endif  // GORO_RUNTIME_SYNC_H_

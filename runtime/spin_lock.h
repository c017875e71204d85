// goro::runtime_internal::SpinLock: a tiny test-and-test-and-set lock for the wait queues of
// channels and sync primitives (Go's runtime mutex in its role of lock(&c.lock)).

#ifndef GORO_RUNTIME_SPIN_LOCK_H_
#define GORO_RUNTIME_SPIN_LOCK_H_

#include <sched.h>

#include <atomic>

#include "absl/base/thread_annotations.h"
#include "base/lock_rank.h"
#include "base/no_preempt.h"
#include "runtime/arch/cpu_relax.h"

namespace goro::runtime_internal {

// runtime_internal::CpuRelax is arch_internal::CpuRelax (runtime/arch/cpu_relax.h): the
// spin-wait hint, Go's procyield(1).
using arch_internal::CpuRelax;

// runtime_internal::SpinLock guards a short critical section that never blocks: a wait
// queue, a ring buffer, a counter. Lock() spins with CpuRelax for a while, then calls
// sched_yield between attempts, so a holder that lost its CPU can finish.
//
// It is not tied to a goroutine: a goroutine may take it, Park, and have the Park commit
// function (running on the same M's scheduler stack, so the same thread) release it. That
// is the only way it may be held across a switch. Lock and Unlock raise and lower the
// thread's no-preemption depth (base/no_preempt.h), so they must run on the same thread. It must never be held while calling anything that parks,
// and never across SafePoint().
//
// Memory ordering: Unlock() happens-before every later Lock() that acquires the lock
// (release store, acquire exchange).
// Thread safety: thread-safe.
class ABSL_LOCKABLE SpinLock {
 public:
  // `rank` is the lock's place in goro's lock order (base/lock_rank.h), checked when
  // lockrankcheck=1.
  explicit constexpr SpinLock(base_internal::LockRank rank) : rank_(rank) {}
  SpinLock(const SpinLock&) = delete;
  SpinLock& operator=(const SpinLock&) = delete;

  // runtime_internal::SpinLock::Lock acquires the lock, spinning until it is free.
  // Precondition: the caller does not hold it (it is not recursive).
  // Thread safety: thread-safe.
  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    // The holder is never preempted asynchronously (base/no_preempt.h): waiters spin with
    // their Ps, so a stopped holder could never get a P back to release the lock.
    base_internal::NoPreemptEnter();
    if (base_internal::LockRankCheckOn()) base_internal::LockRankAcquire(rank_, this);
    // Acquire: pairs with the release in Unlock(); the previous holder's writes are
    // visible once the exchange returns false.
    if (!locked_.exchange(true, std::memory_order_acquire)) return;
    LockSlow();
  }

  // runtime_internal::SpinLock::TryLock acquires the lock if it is free; returns whether
  // it did. Never spins.
  // Thread safety: thread-safe.
  bool TryLock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) {
    // Relaxed test first (no cache-line steal when held); acquire exchange as in Lock().
    base_internal::NoPreemptEnter();
    if (!locked_.load(std::memory_order_relaxed) &&
        !locked_.exchange(true, std::memory_order_acquire)) {
      if (base_internal::LockRankCheckOn()) base_internal::LockRankTryAcquired(rank_, this);
      return true;
    }
    base_internal::NoPreemptExit();
    return false;
  }

  // runtime_internal::SpinLock::Unlock releases the lock.
  // Precondition: the lock is held (by the caller, or handed to a Park commit).
  // Thread safety: thread-safe.
  void Unlock() ABSL_UNLOCK_FUNCTION() {
    // Release: publishes the critical section to the next Lock().
    locked_.store(false, std::memory_order_release);
    if (base_internal::LockRankCheckOn()) base_internal::LockRankRelease(this);
    base_internal::NoPreemptExit();
  }

 private:
  void LockSlow() {
    int spins = 0;
    do {
      // Test before test-and-set: wait with plain loads so waiters share the line.
      while (locked_.load(std::memory_order_relaxed)) {
        if (spins < kActiveSpins) {
          for (int i = 0; i < kPausesPerSpin; ++i) CpuRelax();
          ++spins;
        } else {
          sched_yield();
        }
      }
      // Acquire: as in Lock().
    } while (locked_.exchange(true, std::memory_order_acquire));
  }

  static constexpr int kActiveSpins = 64;
  static constexpr int kPausesPerSpin = 16;

  // Atomic: true while held. Set by an acquire exchange, cleared by a release store.
  std::atomic<bool> locked_{false};
  const base_internal::LockRank rank_;  // Constant after construction.
};

// runtime_internal::SpinLockHolder holds a SpinLock for its scope.
// Thread safety: not shared; one holder per scope.
class ABSL_SCOPED_LOCKABLE SpinLockHolder {
 public:
  explicit SpinLockHolder(SpinLock* lock) ABSL_EXCLUSIVE_LOCK_FUNCTION(lock) : lock_(lock) {
    lock_->Lock();
  }
  SpinLockHolder(const SpinLockHolder&) = delete;
  SpinLockHolder& operator=(const SpinLockHolder&) = delete;
  ~SpinLockHolder() ABSL_UNLOCK_FUNCTION() { lock_->Unlock(); }

 private:
  SpinLock* const lock_;
};

}  // namespace goro::runtime_internal

#endif  // GORO_RUNTIME_SPIN_LOCK_H_

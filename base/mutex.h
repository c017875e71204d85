// goro::base_internal::OsMutex: a std::mutex with Abseil's thread-safety annotations, for
// the runtime's own slow paths. (goro::Mutex is the goroutine mutex of runtime/sync.h.)
//
// Why not absl::Mutex: Debian's Abseil is not built with ThreadSanitizer, so TSan cannot see
// the happens-before edges of absl::Mutex and reports false races; pthread mutexes are
// intercepted by TSan. This wrapper keeps ABSL_GUARDED_BY checking under clang.

#ifndef GORO_BASE_MUTEX_H_
#define GORO_BASE_MUTEX_H_

#include <mutex>

#include "absl/base/thread_annotations.h"
#include "base/lock_rank.h"
#include "base/no_preempt.h"

namespace goro::base_internal {

// base_internal::OsMutex is an exclusive lock that blocks the OS thread, for slow paths
// (registries, setup, the scheduler lock); never held across a goroutine switch. Each one
// has a rank in goro's lock order (base/lock_rank.h), checked when lockrankcheck=1.
// Memory ordering: Unlock() happens-before every later Lock() of the same mutex.
// Thread safety: all methods are thread-safe.
class ABSL_LOCKABLE OsMutex {
 public:
  // `rank` is the lock's place in the order; every OsMutex has one (base/lock_rank.h).
  explicit constexpr OsMutex(LockRank rank) : rank_(rank) {}
  OsMutex(const OsMutex&) = delete;
  OsMutex& operator=(const OsMutex&) = delete;

  // While held, the thread cannot be preempted asynchronously (base/no_preempt.h): a
  // goroutine stopped with the lock held would block every other thread that wants it.
  // With lockrankcheck=1 the order is checked before the thread can block on the lock.
  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    NoPreemptEnter();
    if (LockRankCheckOn()) LockRankAcquire(rank_, this);
    mu_.lock();
  }
  void Unlock() ABSL_UNLOCK_FUNCTION() {
    mu_.unlock();
    if (LockRankCheckOn()) LockRankRelease(this);
    NoPreemptExit();
  }
  // Takes the lock if it is free and returns true; otherwise returns false at once. Used by
  // the tracer's crash path (tracer/crash.h), which may not block on a lock that a frozen or
  // crashing thread holds; glibc's trylock is one atomic exchange and takes no other lock.
  bool TryLock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) {
    NoPreemptEnter();
    if (mu_.try_lock()) {
      if (LockRankCheckOn()) LockRankTryAcquired(rank_, this);
      return true;
    }
    NoPreemptExit();
    return false;
  }

 private:
  std::mutex mu_;
  const LockRank rank_;  // Constant after construction.
};

// base_internal::OsMutexLock holds an OsMutex for its scope.
class ABSL_SCOPED_LOCKABLE OsMutexLock {
 public:
  explicit OsMutexLock(OsMutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) { mu_->Lock(); }
  OsMutexLock(const OsMutexLock&) = delete;
  OsMutexLock& operator=(const OsMutexLock&) = delete;
  ~OsMutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }

 private:
  OsMutex* const mu_;
};

}  // namespace goro::base_internal

#endif  // GORO_BASE_MUTEX_H_

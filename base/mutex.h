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
#include "base/no_preempt.h"

namespace goro::base_internal {

// base_internal::OsMutex is an exclusive lock that blocks the OS thread, for slow paths
// (registries, setup, the scheduler lock); never held across a goroutine switch.
// Memory ordering: Unlock() happens-before every later Lock() of the same mutex.
// Thread safety: all methods are thread-safe.
class ABSL_LOCKABLE OsMutex {
 public:
  OsMutex() = default;
  OsMutex(const OsMutex&) = delete;
  OsMutex& operator=(const OsMutex&) = delete;

  // While held, the thread cannot be preempted asynchronously (base/no_preempt.h): a
  // goroutine stopped with the lock held would block every other thread that wants it.
  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    NoPreemptEnter();
    mu_.lock();
  }
  void Unlock() ABSL_UNLOCK_FUNCTION() {
    mu_.unlock();
    NoPreemptExit();
  }
  // Takes the lock if it is free and returns true; otherwise returns false at once. Used by
  // the tracer's crash path (tracer/crash.h), which may not block on a lock that a frozen or
  // crashing thread holds; glibc's trylock is one atomic exchange and takes no other lock.
  bool TryLock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) {
    NoPreemptEnter();
    if (mu_.try_lock()) return true;
    NoPreemptExit();
    return false;
  }

 private:
  std::mutex mu_;
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

// goro::Mutex: a std::mutex with Abseil's thread-safety annotations.
//
// Why not absl::Mutex: Debian's Abseil is not built with ThreadSanitizer, so TSan cannot see
// the happens-before edges of absl::Mutex and reports false races; pthread mutexes are
// intercepted by TSan. This wrapper keeps ABSL_GUARDED_BY checking under clang.

#ifndef GORO_BASE_MUTEX_H_
#define GORO_BASE_MUTEX_H_

#include <mutex>

#include "absl/base/thread_annotations.h"

namespace goro {

// goro::Mutex is an exclusive lock for slow paths (registries, setup); never held across a
// goroutine switch.
// Memory ordering: Unlock() happens-before every later Lock() of the same mutex.
// Thread safety: all methods are thread-safe.
class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void Unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }

 private:
  std::mutex mu_;
};

// goro::MutexLock holds a goro::Mutex for its scope.
class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) { mu_->Lock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }

 private:
  Mutex* const mu_;
};

}  // namespace goro

#endif  // GORO_BASE_MUTEX_H_

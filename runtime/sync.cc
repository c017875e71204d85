// goro's sync primitives (Go's sync.Mutex, sync.WaitGroup, sync.Cond over
// runtime/sema.go's semacquire/semrelease and notifyList).
//
// Go builds its sync package on semaphores keyed by address (semacquire/semrelease, a
// treap of waiters per address) and notify lists for Cond. goro needs no address-keyed
// table: each primitive owns its wait list (a FIFO of SyncWaiter records that live in the
// parked goroutines' frames) under its own SpinLock. The pattern everywhere:
//   - a lock-free fast path on an atomic state word;
//   - the slow path takes the spin lock, re-checks the state, queues a record, and parks
//     with the spin lock still held; the Park commit releases it once the G is Waiting,
//     so a waker (which takes the spin lock first) can never miss the record or see the
//     G still Running;
//   - a waker takes records off the list under the spin lock, releases it, then publishes
//     the wakeup (SyncWaiter::woken, release) and calls Ready. The woken G's acquire load
//     of `woken` is the happens-before edge of the primitive, and a check against a Park
//     that returns without a wakeup.
// Mutex hands the lock directly to the first waiter (Go's starvation mode, always on once
// someone waits): simple, fair, and no thundering herd. Cond uses Go's ticket scheme so
// that the waiter can drop the mutex before it takes the list lock without losing a
// Signal sent in between.

#include "runtime/sync.h"

#include "base/fatal.h"
#include "runtime/g.h"
#include "runtime/misuse.h"
#include "runtime/park.h"
#include "runtime/safe_point.h"
#include "runtime/scheduler.h"

namespace goro {
namespace runtime_internal {

struct SyncWaiter {
  // Constant while queued: the parked goroutine.
  G* g = nullptr;
  // Constant while queued: the Cond ticket (Go's notifyList ticket); unused elsewhere.
  uint32_t ticket = 0;
  // Protected by the owning primitive's spin lock: the list link.
  SyncWaiter* next = nullptr;
  // Atomic: set with release by the waker after it took the record off the list, just
  // before Ready; loaded with acquire by the woken G.
  std::atomic<bool> woken{false};
};

void SyncWaitList::PushBack(SyncWaiter* w) {
  w->next = nullptr;
  if (tail_ == nullptr) {
    head_ = w;
  } else {
    tail_->next = w;
  }
  tail_ = w;
}

SyncWaiter* SyncWaitList::PopFront() {
  SyncWaiter* w = head_;
  if (w == nullptr) return nullptr;
  head_ = w->next;
  if (head_ == nullptr) tail_ = nullptr;
  w->next = nullptr;
  return w;
}

SyncWaiter* SyncWaitList::TakeAll() {
  SyncWaiter* w = head_;
  head_ = nullptr;
  tail_ = nullptr;
  return w;
}

SyncWaiter* SyncWaitList::RemoveTicket(uint32_t t) {
  SyncWaiter* prev = nullptr;
  for (SyncWaiter* w = head_; w != nullptr; prev = w, w = w->next) {
    if (w->ticket != t) continue;
    if (prev == nullptr) {
      head_ = w->next;
    } else {
      prev->next = w->next;
    }
    if (tail_ == w) tail_ = prev;
    w->next = nullptr;
    return w;
  }
  return nullptr;
}

namespace {

// The Park commit of every sync primitive: the G is Waiting and queued; release the list
// lock so that a waker may take it.
bool UnlockSpinCommit(G* g, void* lock) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  static_cast<SpinLock*>(lock)->Unlock();
  return true;
}

// Queues `w` for the calling goroutine and parks; `lock` (held) is released by the
// commit. Returns once a waker has published the wakeup.
void ParkOn(SyncWaitList* list, SyncWaiter* w, SpinLock* lock, WaitReason reason)
    ABSL_UNLOCK_FUNCTION(lock) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  w->g = CurrentG();
  list->PushBack(w);
  Park(reason, &UnlockSpinCommit, lock);
  // Acquire: pairs with the release in Wake().
  if (!w->woken.load(std::memory_order_acquire)) {
    GORO_FATAL("goroutine ", w->g->id, " resumed from ", WaitReasonString(reason),
               " without a wakeup");
  }
}

// Publishes the wakeup of a waiter already off its list and readies it. The record may be
// gone once this returns.
void Wake(SyncWaiter* w) {
  G* g = w->g;  // read before the release: after it, the record may vanish
  // Release: the waker's writes (and the primitive's hand-over) are visible to the G.
  w->woken.store(true, std::memory_order_release);
  Ready(g);
}

// Wakes a list taken with TakeAll().
void WakeAll(SyncWaiter* w) {
  while (w != nullptr) {
    SyncWaiter* next = w->next;  // before Wake: the record may vanish after it
    Wake(w);
    w = next;
  }
}

// Go's notifyList ticket order, safe across wraparound.
bool TicketLess(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) < 0; }

constexpr int kMutexSpins = 4;
constexpr int kMutexPausesPerSpin = 30;

}  // namespace
}  // namespace runtime_internal

namespace sync {

using runtime_internal::SpinLockHolder;
using runtime_internal::SyncWaiter;

// --- Mutex (Go's sync.Mutex lockSlow / unlockSlow over semacquire / semrelease) ---

void Mutex::LockSlow() {
  // Checked here, not in Lock's inline fast path (one CAS): an uncontended Lock off a
  // goroutine goes unnoticed; any Lock that finds the mutex held dies.
  runtime_internal::SafePointOf(runtime_internal::RequireGoroutine("goro::Mutex::Lock"));
  // Spin a little while the holder may be about to release (worth it only if the holder
  // runs on another M; cheap otherwise). Never barge past waiters.
  for (int i = 0; i < runtime_internal::kMutexSpins; ++i) {
    uint32_t s = state_.load(std::memory_order_relaxed);
    if (s == 0) {
      // Acquire: as in Lock().
      if (state_.compare_exchange_weak(s, kLocked, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        return;
      }
      continue;
    }
    if ((s & kWaiters) != 0) break;
    for (int j = 0; j < runtime_internal::kMutexPausesPerSpin; ++j) runtime_internal::CpuRelax();
  }

  wait_lock_.Lock();
  for (;;) {
    uint32_t s = state_.load(std::memory_order_relaxed);
    if ((s & kLocked) == 0) {
      // Free (so nobody waits: kWaiters implies kLocked). Acquire: as in Lock().
      if (state_.compare_exchange_weak(s, s | kLocked, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        wait_lock_.Unlock();
        return;
      }
      continue;
    }
    if ((s & kWaiters) != 0) break;
    // Relaxed: kWaiters only routes the holder's Unlock to the slow path, which reads
    // the list under wait_lock_.
    if (state_.compare_exchange_weak(s, s | kWaiters, std::memory_order_relaxed)) break;
  }
  SyncWaiter w;
  runtime_internal::ParkOn(&waiters_, &w, &wait_lock_, WaitReason::kSyncMutexLock);
  // The unlocker handed the mutex to us; state_ still has kLocked.
}

void Mutex::UnlockSlow() {
  wait_lock_.Lock();
  uint32_t s = state_.load(std::memory_order_relaxed);
  if ((s & kLocked) == 0) {
    wait_lock_.Unlock();
    GORO_FATAL("sync: unlock of unlocked mutex (mutex ", static_cast<const void*>(this), ")");
  }
  SyncWaiter* w = waiters_.PopFront();
  if (w == nullptr) {
    // Release: as in Unlock().
    state_.store(0, std::memory_order_release);
    wait_lock_.Unlock();
    return;
  }
  // Hand the mutex to w: kLocked stays set. Relaxed: the wakeup's release (Wake)
  // publishes the critical section to w, and no other locker can take the mutex.
  state_.store(waiters_.empty() ? kLocked : (kLocked | kWaiters), std::memory_order_relaxed);
  wait_lock_.Unlock();
  runtime_internal::Wake(w);
}

// --- WaitGroup (Go's sync.WaitGroup) ---

void WaitGroup::Add(int32_t delta) {
  const uint64_t d = static_cast<uint64_t>(static_cast<int64_t>(delta)) << 32;
  // acq_rel: a Done releases the goroutine's work to whoever sees the counter at zero;
  // the RMW chain makes every earlier Done part of that.
  const uint64_t s = state_.fetch_add(d, std::memory_order_acq_rel) + d;
  const int32_t v = static_cast<int32_t>(s >> 32);
  const uint32_t w = static_cast<uint32_t>(s);
  if (v < 0) {
    GORO_FATAL("sync: negative WaitGroup counter (counter ", v, ", delta ", delta,
               ", waitgroup ", static_cast<const void*>(this), ")");
  }
  if (w != 0 && delta > 0 && v == delta) {
    GORO_FATAL("sync: WaitGroup misuse: Add called concurrently with Wait");
  }
  if (v > 0 || w == 0) return;
  // The counter reached zero with waiters parked (or parking: each registered itself in
  // the low bits under wait_lock_ and queues its record before releasing it, so once we
  // hold the lock all w of them are on the list). Release them all.
  SyncWaiter* list;
  {
    SpinLockHolder l(&wait_lock_);
    if (state_.load(std::memory_order_relaxed) != s) {
      GORO_FATAL("sync: WaitGroup misuse: Add called concurrently with Wait");
    }
    state_.store(0, std::memory_order_relaxed);  // reusable; the wakeups publish
    list = waiters_.TakeAll();
  }
  runtime_internal::WakeAll(list);
}

void WaitGroup::Wait() {
  runtime_internal::SafePointOf(runtime_internal::RequireGoroutine("goro::WaitGroup::Wait"));
  for (;;) {
    // Acquire: pairs with the Adds' release; a zero counter means their work is visible.
    uint64_t s = state_.load(std::memory_order_acquire);
    if ((s >> 32) == 0) return;
    wait_lock_.Lock();
    // Register as a waiter; fails if the counter (or the waiter count) moved meanwhile.
    if (!state_.compare_exchange_strong(s, s + 1, std::memory_order_relaxed)) {
      wait_lock_.Unlock();
      continue;
    }
    SyncWaiter w;
    runtime_internal::ParkOn(&waiters_, &w, &wait_lock_, WaitReason::kSyncWaitGroupWait);
    return;
  }
}

// --- Cond (Go's sync.Cond over notifyListAdd / notifyListWait / notifyListNotify*) ---

void Cond::Wait() {
  runtime_internal::SafePointOf(runtime_internal::RequireGoroutine("goro::Cond::Wait"));
  // Take a ticket while still holding the mutex (seq-cst, as Go's atomic.Xadd): a Signal
  // that follows our Unlock sees it.
  const uint32_t t = wait_.fetch_add(1);
  mu_->Unlock();
  wait_lock_.Lock();
  if (runtime_internal::TicketLess(t, notify_.load(std::memory_order_relaxed))) {
    // Already notified between the Unlock and here.
    wait_lock_.Unlock();
  } else {
    SyncWaiter w;
    w.ticket = t;
    runtime_internal::ParkOn(&waiters_, &w, &wait_lock_, WaitReason::kSyncCondWait);
  }
  mu_->Lock();
}

void Cond::Signal() {
  // Fast path: nobody took a ticket since the last notification (seq-cst loads, as Go).
  if (wait_.load() == notify_.load()) return;
  SyncWaiter* w;
  {
    SpinLockHolder l(&wait_lock_);
    const uint32_t t = notify_.load(std::memory_order_relaxed);
    if (t == wait_.load()) return;
    notify_.store(t + 1);
    // The ticket holder may not have queued itself yet; then it sees notify_ > t and
    // does not park.
    w = waiters_.RemoveTicket(t);
  }
  if (w != nullptr) runtime_internal::Wake(w);
}

void Cond::Broadcast() {
  if (wait_.load() == notify_.load()) return;
  SyncWaiter* list;
  {
    SpinLockHolder l(&wait_lock_);
    notify_.store(wait_.load());
    list = waiters_.TakeAll();
  }
  runtime_internal::WakeAll(list);
}

// --- Notification ---

void Notification::Notify() {
  SyncWaiter* list;
  {
    SpinLockHolder l(&wait_lock_);
    if (notified_.load(std::memory_order_relaxed)) {
      GORO_FATAL("Notification::Notify called twice (notification ",
                 static_cast<const void*>(this), ")");
    }
    // Release: pairs with the acquire loads in HasBeenNotified / WaitForNotification.
    notified_.store(true, std::memory_order_release);
    list = waiters_.TakeAll();
  }
  runtime_internal::WakeAll(list);
}

void Notification::WaitForNotification() {
  runtime_internal::SafePointOf(
      runtime_internal::RequireGoroutine("goro::Notification::WaitForNotification"));
  if (HasBeenNotified()) return;
  wait_lock_.Lock();
  // Relaxed: the spin lock orders this load after a Notify that held it.
  if (notified_.load(std::memory_order_relaxed)) {
    wait_lock_.Unlock();
    return;
  }
  SyncWaiter w;
  runtime_internal::ParkOn(&waiters_, &w, &wait_lock_, WaitReason::kSyncCondWait);
}

}  // namespace sync
}  // namespace goro

// The local run queue: Go's lock-free single-producer, multi-consumer ring.

#include "runtime/run_queue.h"

#include <sched.h>

namespace goro::runtime_internal {

bool RunQueue::Put(G* g, bool next, Batch* overflow) {
  if (next) {
    G* old = runnext_.load(std::memory_order_relaxed);
    while (!runnext_.compare_exchange_weak(old, g, std::memory_order_acq_rel)) {
    }
    if (old == nullptr) return true;
    g = old;  // the displaced runnext goes to the tail
  }
  for (;;) {
    uint32_t h = head_.load(std::memory_order_acquire);
    uint32_t t = tail_.load(std::memory_order_relaxed);
    if (t - h < kSize) {
      ring_[t % kSize].store(g, std::memory_order_relaxed);
      tail_.store(t + 1, std::memory_order_release);  // publishes the slot to takers
      return true;
    }
    // Full: move half of the ring plus g to the global queue (Go's runqputslow).
    uint32_t n = (t - h) / 2;
    G* batch[kSize / 2 + 1];
    for (uint32_t i = 0; i < n; ++i) {
      batch[i] = ring_[(h + i) % kSize].load(std::memory_order_relaxed);
    }
    if (!head_.compare_exchange_strong(h, h + n, std::memory_order_acq_rel)) {
      continue;  // a stealer took some; the ring may have room now
    }
    batch[n] = g;
    for (uint32_t i = 0; i < n; ++i) batch[i]->sched_link = batch[i + 1];
    batch[n]->sched_link = nullptr;
    overflow->head = batch[0];
    overflow->tail = batch[n];
    overflow->n = n + 1;
    return false;
  }
}

G* RunQueue::TakeRunnext() {
  G* next = runnext_.load(std::memory_order_relaxed);
  // Only the owner puts into runnext, so if it is non-null here a CAS either takes it or
  // a stealer did; either way there is no need to retry.
  if (next != nullptr &&
      runnext_.compare_exchange_strong(next, nullptr, std::memory_order_acq_rel)) {
    return next;
  }
  return nullptr;
}

G* RunQueue::Get(bool* from_runnext) {
  G* next = TakeRunnext();
  if (from_runnext != nullptr) *from_runnext = next != nullptr;
  if (next != nullptr) return next;
  for (;;) {
    uint32_t h = head_.load(std::memory_order_acquire);
    uint32_t t = tail_.load(std::memory_order_relaxed);
    if (t == h) return nullptr;
    G* g = ring_[h % kSize].load(std::memory_order_relaxed);
    if (head_.compare_exchange_weak(h, h + 1, std::memory_order_acq_rel)) return g;
  }
}

uint32_t RunQueue::Grab(G** batch, uint32_t batch_head, bool steal_runnext) {
  for (;;) {
    uint32_t h = head_.load(std::memory_order_acquire);
    uint32_t t = tail_.load(std::memory_order_acquire);
    uint32_t n = t - h;
    n = n - n / 2;
    if (n == 0) {
      if (steal_runnext) {
        G* next = runnext_.load(std::memory_order_acquire);
        if (next != nullptr) {
          // The owner may be about to run it; give it a moment, as Go does, so a
          // producer/consumer pair on one P is not split needlessly.
          sched_yield();
          if (runnext_.compare_exchange_strong(next, nullptr, std::memory_order_acq_rel)) {
            batch[batch_head % kSize] = next;
            return 1;
          }
        }
      }
      return 0;
    }
    if (n > kSize / 2) continue;  // inconsistent h and t read; retry
    for (uint32_t i = 0; i < n; ++i) {
      batch[(batch_head + i) % kSize] = ring_[(h + i) % kSize].load(std::memory_order_relaxed);
    }
    if (head_.compare_exchange_strong(h, h + n, std::memory_order_acq_rel)) return n;
  }
}

G* RunQueue::StealFrom(RunQueue* victim, bool steal_runnext) {
  uint32_t t = tail_.load(std::memory_order_relaxed);
  G* got[kSize];
  uint32_t n = victim->Grab(got, 0, steal_runnext);
  if (n == 0) return nullptr;
  G* g = got[n - 1];
  n--;
  if (n == 0) return g;
  // No look at our own head: the caller steals only when its queue is empty (FindRunnable
  // found nothing in it), and Grab takes at most half a queue, so there is room.
  for (uint32_t i = 0; i < n; ++i) ring_[(t + i) % kSize].store(got[i], std::memory_order_relaxed);
  tail_.store(t + n, std::memory_order_release);
  return g;
}

uint32_t RunQueue::Size() const {
  uint32_t h = head_.load(std::memory_order_acquire);
  uint32_t t = tail_.load(std::memory_order_acquire);
  uint32_t n = t - h;
  if (n > kSize) n = 0;  // torn read by another thread
  return n + (runnext_.load(std::memory_order_relaxed) != nullptr ? 1 : 0);
}

bool RunQueue::Empty() const { return Size() == 0; }

}  // namespace goro::runtime_internal

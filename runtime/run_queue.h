// goro::runtime_internal::RunQueue: a P's local run queue (Go's p.runq, runqput, runqget,
// runqgrab, runqsteal): a 256-slot ring that only the owning P's M writes at the tail and
// anyone may take from at the head, plus the runnext slot.

#ifndef GORO_RUNTIME_RUN_QUEUE_H_
#define GORO_RUNTIME_RUN_QUEUE_H_

#include <atomic>
#include <cstdint>

#include "runtime/g.h"

namespace goro::runtime_internal {

// runtime_internal::RunQueue holds runnable Gs of one P.
// Memory ordering: Put stores the G pointer and then the tail with release; takers load
// the tail with acquire before reading slots, and claim slots by CAS on the head
// (acq_rel), so a taker sees the G the owner published and the owner sees the slot freed.
class RunQueue {
 public:
  static constexpr uint32_t kSize = 256;

  // A batch of Gs moved out of the queue (linked through G::sched_link).
  struct Batch {
    G* head = nullptr;
    G* tail = nullptr;
    uint32_t n = 0;
  };

  // runtime_internal::RunQueue::Put adds g (Go's runqput). With `next`, g goes in runnext
  // and the previous runnext (if any) is queued instead. When the ring is full, half of
  // it plus the G are returned in *overflow for the global queue (Go's runqputslow), and
  // Put returns false. Thread safety: the owning P's M only.
  bool Put(G* g, bool next, Batch* overflow);

  // runtime_internal::RunQueue::Get takes the next G: runnext first, then the head
  // (Go's runqget). Returns null when empty. *from_runnext (if not null) says whether the G
  // came from runnext, where it inherits the time slice of the G that readied it.
  // Thread safety: the owning P's M only.
  G* Get(bool* from_runnext = nullptr);

  // runtime_internal::RunQueue::TakeRunnext empties the runnext slot and returns what was
  // in it (null if nothing). Thread safety: the owning P's M only.
  G* TakeRunnext();

  // runtime_internal::RunQueue::StealFrom moves about half of `victim`'s Gs into this
  // (empty) queue and returns one of them to run now (Go's runqsteal); with
  // `steal_runnext` it may take the victim's runnext. Null if nothing was stolen.
  // Thread safety: the M owning *this*; victim may be used concurrently by its owner.
  G* StealFrom(RunQueue* victim, bool steal_runnext);

  // runtime_internal::RunQueue::Size is approximate when read by another thread.
  uint32_t Size() const;
  bool Empty() const;

 private:
  uint32_t Grab(G** batch, uint32_t batch_head, bool steal_runnext);

  // Atomic: consumers CAS it forward (acq_rel).
  std::atomic<uint32_t> head_{0};
  // Atomic: written by the owner only (release); read by stealers (acquire).
  std::atomic<uint32_t> tail_{0};
  // Atomic slots: written by the owner before publishing tail_, read by whoever claims
  // them through head_.
  std::atomic<G*> ring_[kSize] = {};
  // Atomic: the owner sets it; the owner and stealers take it with a CAS.
  std::atomic<G*> runnext_{nullptr};
};

}  // namespace goro::runtime_internal

#endif  // GORO_RUNTIME_RUN_QUEUE_H_

// The inside of a channel, shared by chan.cc and select.cc: waiter records (Go's sudog),
// wait queues (Go's waitq) and the channel core (Go's hchan). Private to //runtime:chan.

#ifndef GORO_RUNTIME_CHAN_CORE_H_
#define GORO_RUNTIME_CHAN_CORE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "runtime/chan.h"
#include "runtime/g.h"
#include "runtime/spin_lock.h"

namespace goro::runtime_internal {

struct Sudog;

// runtime_internal::SelectWait is the state a blocked select shares among its waiter
// records; it lives in the selecting goroutine's frame (Go keeps it in the G:
// g.selectDone and g.param).
struct SelectWait {
  // Atomic: the first channel operation to win the CAS false -> true owns the wakeup of
  // the select (Go's g.selectDone). Any other channel that dequeues one of the select's
  // records sees true and drops the record. The CAS runs under the lock of the winner's
  // channel; acq_rel.
  std::atomic<bool> done{false};
  // Atomic: the record that won (Go's g.param). The waker stores it with release after it
  // finished with the record and its element, just before Ready; the select G loads it
  // with acquire when it resumes (the happens-before edge of the handoff, independent of
  // the scheduler's, and a check that the wakeup was real).
  std::atomic<Sudog*> winner{nullptr};
};

// runtime_internal::Sudog is one goroutine waiting on one channel (Go's sudog). It lives
// in the waiting goroutine's frame: goro never moves stacks, and the frame outlives the
// record's membership of the queue (the waiter returns only after a waker took the
// record off the queue, or after it removed the record itself under the channel lock).
// While the G is Waiting, channel operations read and write the record and the element
// it points to under the channel lock (GO_SEMANTICS.md 1.1, the channel-lock exception).
struct Sudog {
  // Constant while queued: the waiting goroutine.
  G* g = nullptr;
  // Constant while queued: the element to send (a live T: moved from, or copied if
  // elem_copy) or the place to receive into (raw storage if elem_raw, else a live T;
  // null: discard). Points into g's stack.
  void* elem = nullptr;
  bool elem_copy = false;
  bool elem_raw = false;
  // Constant while queued: the channel this record waits on.
  ChanCore* c = nullptr;
  // Constant while queued: the select this record belongs to, or null (Go's isSelect).
  SelectWait* select = nullptr;
  // Protected by c's lock: the queue links (Go's sudog.next/prev) and membership.
  Sudog* next = nullptr;
  Sudog* prev = nullptr;
  bool queued = false;
  // Protected by c's lock while queued; then owned by g: whether the wakeup delivered a
  // value (true) or came from close (false) (Go's sudog.success). Written by the waker
  // before the release store in WakeWaiter.
  bool success = false;
  // Atomic (records of plain sends and receives; selects use SelectWait::winner): the
  // waker stores true with release after finishing with the record and the element, just
  // before Ready(g); the woken G loads it with acquire before reading either. It carries
  // the happens-before edge of the handoff independently of the scheduler's, and lets the
  // G check that its wakeup was real.
  std::atomic<bool> woken{false};
};

// runtime_internal::WaitQueue is a FIFO of Sudogs (Go's waitq).
// Thread safety: protected by the lock of the channel that owns it.
class WaitQueue {
 public:
  // runtime_internal::WaitQueue::Enqueue appends s.
  void Enqueue(Sudog* s);
  // runtime_internal::WaitQueue::Dequeue removes and returns the first record whose
  // goroutine may be woken by the caller, or null. Records of selects that another
  // channel has already won are dropped on the way (Go's waitq.dequeue). When it returns
  // a select's record, the caller has won that select and must wake it.
  Sudog* Dequeue();
  // runtime_internal::WaitQueue::Remove unlinks s if it is still queued (Go's
  // dequeueSudoG); a no-op if a Dequeue already dropped it.
  void Remove(Sudog* s);
  bool empty() const { return first_ == nullptr; }

 private:
  // Protected by the owning channel's lock_: the oldest and newest queued records.
  Sudog* first_ = nullptr;
  Sudog* last_ = nullptr;
};

// runtime_internal::ChanCore is the channel itself (Go's hchan). The buffer is a ring of
// `cap_` slots; the slots [recvx_, recvx_ + qcount_) (mod cap_) hold live elements, the
// others are raw storage.
class ChanCore {
 public:
  ChanCore(const ElemType* type, size_t capacity, unsigned char* buf)
      : type_(type), cap_(capacity), buf_(buf) {}
  ChanCore(const ChanCore&) = delete;
  ChanCore& operator=(const ChanCore&) = delete;

  // Constant after construction.
  const ElemType* const type_;
  const size_t cap_;
  unsigned char* const buf_;  // the slots are protected by lock_

  // Atomic: the number of Chan<T> handles referring to the core. An operation runs on a
  // handle the caller keeps alive, so no operation needs a reference of its own.
  std::atomic<int64_t> refs_{1};

  SpinLock lock_{base_internal::LockRank::kHchan};
  // --- Begin lock_-protected members ---
  // Atomic (relaxed) only so that Len() may read it without the lock; written under lock_.
  std::atomic<size_t> qcount_{0};
  size_t sendx_ ABSL_GUARDED_BY(lock_) = 0;  // next slot to send into
  size_t recvx_ ABSL_GUARDED_BY(lock_) = 0;  // next slot to receive from
  bool closed_ ABSL_GUARDED_BY(lock_) = false;
  WaitQueue recvq_ ABSL_GUARDED_BY(lock_);  // blocked receivers (Go's recvq)
  WaitQueue sendq_ ABSL_GUARDED_BY(lock_);  // blocked senders (Go's sendq)
  // --- End lock_-protected members ---

  unsigned char* Slot(size_t i) const { return buf_ + i * type_->size; }
};

// runtime_internal::TransferElem moves (or copies) the element at src into dst. A null
// dst discards it (src is left as is).
void TransferElem(const ElemType* type, ElemDst dst, ElemSrc src);

// runtime_internal::SendToWaiterLocked delivers src to the blocked receiver `sg` (taken
// from c->recvq_), unlocks with `unlock(arg)` and readies the receiver (Go's send).
void SendToWaiterLocked(ChanCore* c, Sudog* sg, ElemSrc src, void (*unlock)(void*), void* arg)
    ABSL_NO_THREAD_SAFETY_ANALYSIS;

// runtime_internal::RecvFromWaiterLocked takes a value for dst from the blocked sender
// `sg` (taken from c->sendq_): directly on an unbuffered channel, else from the head of
// the full buffer, refilling the tail from sg. Then unlocks with `unlock(arg)` and
// readies the sender (Go's recv).
void RecvFromWaiterLocked(ChanCore* c, Sudog* sg, ElemDst dst, void (*unlock)(void*), void* arg)
    ABSL_NO_THREAD_SAFETY_ANALYSIS;

// runtime_internal::BufSendLocked / BufRecvLocked put src into the buffer's tail / take
// the head into dst. Preconditions: room / an element.
void BufSendLocked(ChanCore* c, ElemSrc src) ABSL_EXCLUSIVE_LOCKS_REQUIRED(c->lock_);
void BufRecvLocked(ChanCore* c, ElemDst dst) ABSL_EXCLUSIVE_LOCKS_REQUIRED(c->lock_);

// runtime_internal::ZeroElem sets a live (non-raw) destination to T() for a receive
// from a closed channel (Go's typedmemclr of the receive target).
void ZeroElem(const ElemType* type, ElemDst dst);

// runtime_internal::WakeWaiter publishes the end of sg's wakeup (Sudog::woken, or the
// select's winner) and readies its goroutine (Go's goready). sg may be reused or gone once
// this returns. Call it after releasing the channel lock.
void WakeWaiter(Sudog* sg);

// runtime_internal::CheckWoken is what a plain waiter does when Park returns: the acquire
// load that pairs with WakeWaiter. Fatal if Park returned without a wakeup.
void CheckWoken(Sudog* sg);

// runtime_internal::ParkOnChan parks the calling goroutine (which has queued its records
// and holds the channel locks) with `reason`; `unlock(arg)` releases the locks from the
// Park commit. Sets g->parking_on_chan first and clears it in the commit before unlocking
// (Go's chanparkcommit / selparkcommit).
void ParkOnChan(G* g, WaitReason reason, void (*unlock)(void*), void* arg);

// runtime_internal::FatalSendOnClosed reports Go's "send on closed channel".
[[noreturn]] void FatalSendOnClosed(ChanCore* c);

}  // namespace goro::runtime_internal

#endif  // GORO_RUNTIME_CHAN_CORE_H_

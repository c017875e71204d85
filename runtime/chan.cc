// Channels (Go's runtime/chan.go): the type-erased core behind goro::Chan<T> — send,
// receive, close, and the pieces select.cc shares.
//
// Design. A channel is a ChanCore (Go's hchan): a ring buffer of `cap_` element slots, a
// FIFO of blocked receivers and one of blocked senders, a closed flag, and one SpinLock
// that protects all of them. A blocked goroutine is represented by a Sudog that lives in
// its own frame, pointing at the element it sends or the place it receives into, also in
// its frame. Because goro never moves stacks, those pointers stay valid while the G waits;
// the G's status is Waiting, so by the ownership rule nobody else may touch its stack —
// except a channel operation holding that channel's lock (GO_SEMANTICS.md 1.1), which is
// exactly what the partner of a blocked operation does: it takes the Sudog off the queue,
// moves the element straight from one goroutine's stack to the other's (no buffer copy on
// an unbuffered channel), releases the lock and readies the G.
//
// Parking: the operation enqueues its Sudog and calls Park with the lock still held; the
// Park commit (Go's chanparkcommit) releases it once the G is Waiting, so no wakeup can be
// lost and Ready never sees a Running G. g->parking_on_chan is set before Park and cleared
// in the commit just before the unlock (as Go does: after the unlock the G may already be
// running again, and a late store would clobber the flag of its next park).
//
// Happens-before between waker and woken does not lean on the scheduler: the waker's
// release store of Sudog::woken (or SelectWait::winner) pairs with the woken G's acquire
// load, which also catches a Park that returns without a wakeup.
//
// Element operations go through ElemType, so T can be move-only: buffer slots are raw
// storage, constructed on send and destroyed on receive; a receiver names either raw
// storage (Receive() -> optional) or a live T to assign (Receive(T*), select).
//
// Rejected: a per-channel goro::Mutex (it parks, and the wait queues are what parking
// needs); storing the element type in the handle only (the core must destroy buffered
// elements when the last handle goes).

#include "runtime/chan.h"

#include <cstdint>
#include <new>

#include "base/fatal.h"
#include "runtime/chan_core.h"
#include "runtime/misuse.h"
#include "runtime/park.h"
#include "runtime/safe_point.h"
#include "runtime/sched.h"
#include "runtime/scheduler.h"

namespace goro::runtime_internal {

// --- WaitQueue (Go's waitq) ---

void WaitQueue::Enqueue(Sudog* s) {
  s->next = nullptr;
  s->prev = last_;
  s->queued = true;
  if (last_ == nullptr) {
    first_ = s;
  } else {
    last_->next = s;
  }
  last_ = s;
}

Sudog* WaitQueue::Dequeue() {
  for (;;) {
    Sudog* s = first_;
    if (s == nullptr) return nullptr;
    first_ = s->next;
    if (first_ == nullptr) {
      last_ = nullptr;
    } else {
      first_->prev = nullptr;
    }
    s->next = nullptr;
    s->prev = nullptr;
    s->queued = false;
    if (s->select != nullptr) {
      // The select waits on several channels; only the first to flip `done` may wake it.
      // A loser drops the record (the select removes the rest itself once it runs).
      // acq_rel: orders this channel's claim against the other channels' claims; the
      // handoff itself is published by WakeWaiter.
      bool expected = false;
      if (!s->select->done.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) {
        continue;
      }
    }
    return s;
  }
}

void WaitQueue::Remove(Sudog* s) {
  if (!s->queued) return;  // a Dequeue already dropped it
  if (s->prev == nullptr) {
    first_ = s->next;
  } else {
    s->prev->next = s->next;
  }
  if (s->next == nullptr) {
    last_ = s->prev;
  } else {
    s->next->prev = s->prev;
  }
  s->next = nullptr;
  s->prev = nullptr;
  s->queued = false;
}

// --- Elements ---

void TransferElem(const ElemType* type, ElemDst dst, ElemSrc src) {
  if (dst.p == nullptr) return;
  if (dst.raw) {
    if (src.copy) {
      type->copy_construct(dst.p, src.p);
    } else {
      type->move_construct(dst.p, src.p);
    }
  } else {
    if (src.copy) {
      type->copy_assign(dst.p, src.p);
    } else {
      type->move_assign(dst.p, src.p);
    }
  }
}

void ZeroElem(const ElemType* type, ElemDst dst) {
  if (dst.p != nullptr && !dst.raw && type->assign_zero != nullptr) type->assign_zero(dst.p);
}

void BufSendLocked(ChanCore* c, ElemSrc src) {
  TransferElem(c->type_, {c->Slot(c->sendx_), /*raw=*/true}, src);
  if (++c->sendx_ == c->cap_) c->sendx_ = 0;
  c->qcount_.store(c->qcount_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void BufRecvLocked(ChanCore* c, ElemDst dst) {
  unsigned char* slot = c->Slot(c->recvx_);
  TransferElem(c->type_, dst, {slot, false});
  c->type_->destroy(slot);
  if (++c->recvx_ == c->cap_) c->recvx_ = 0;
  c->qcount_.store(c->qcount_.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
}

// --- Waking and parking ---

void WakeWaiter(Sudog* sg) {
  G* g = sg->g;  // read before the release: after it, the record may be gone
  if (sg->select != nullptr) {
    // Release: publishes the element transfer and sg->success to the select G, which
    // loads `winner` with acquire when it resumes.
    sg->select->winner.store(sg, std::memory_order_release);
  } else {
    // Release: as above, for the acquire load in CheckWoken.
    sg->woken.store(true, std::memory_order_release);
  }
  Ready(g);
}

void CheckWoken(Sudog* sg) {
  // Acquire: pairs with the release store in WakeWaiter.
  if (!sg->woken.load(std::memory_order_acquire)) {
    GORO_FATAL("channel waiter resumed without a wakeup: goroutine ", sg->g->id, " sudog ",
               static_cast<const void*>(sg), " chan ", static_cast<const void*>(sg->c));
  }
}

namespace {

// What the Park commit needs; lives in the parking G's frame and is read only while the
// channel locks are still held.
struct ChanParkArgs {
  void (*unlock)(void*);
  void* arg;
};

// Go's chanparkcommit / selparkcommit: runs on the M's scheduler stack with the G already
// Waiting. After `unlock` releases the last lock, the G may be readied and run at once, so
// nothing here (nor in `unlock` after its last unlock) may touch the G's frame.
bool ChanParkCommit(G* g, void* p) {
  auto* args = static_cast<ChanParkArgs*>(p);
  void (*unlock)(void*) = args->unlock;
  void* arg = args->arg;
  // Seq-cst store (as Go's parkingOnChan.Store): the shrinker, which reads the flag with
  // the scan bit held, may shrink from here on; done before the unlock so that it cannot
  // land after the G's next park has set the flag again.
  g->parking_on_chan.store(false);
  unlock(arg);
  return true;
}

void UnlockChan(void* c) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  static_cast<ChanCore*>(c)->lock_.Unlock();
}

// Parks forever: an operation on a nil channel, or a select with nothing to wait for.
[[noreturn]] void BlockForever(WaitReason reason) {
  Park(reason, nullptr, nullptr);
  GORO_FATAL("goroutine ", CurrentG()->id, " woke from a park that has no waker (",
             WaitReasonString(reason), ")");
}

}  // namespace

void ParkOnChan(G* g, WaitReason reason, void (*unlock)(void*), void* arg) {
  ChanParkArgs args{unlock, arg};
  // Seq-cst (as Go's parkingOnChan.Store(true)): visible to a shrinker that takes the
  // scan bit once the G is Waiting.
  g->parking_on_chan.store(true);
  Park(reason, &ChanParkCommit, &args);
}

void FatalSendOnClosed(ChanCore* c) {
  G* g = CurrentG();
  GORO_FATAL("send on closed channel (chan ", static_cast<const void*>(c), ", goroutine ",
             g == nullptr ? int64_t{0} : g->id, ")");
}

void SendToWaiterLocked(ChanCore* c, Sudog* sg, ElemSrc src, void (*unlock)(void*),
                        void* arg) {
  // Straight into the receiver's frame (Go's sendDirect); a receiver that discards the
  // value (null elem) gets nothing and src stays as it was.
  TransferElem(c->type_, {sg->elem, sg->elem_raw}, src);
  sg->success = true;
  unlock(arg);
  WakeWaiter(sg);
}

void RecvFromWaiterLocked(ChanCore* c, Sudog* sg, ElemDst dst, void (*unlock)(void*),
                          void* arg) {
  if (c->cap_ == 0) {
    // Straight from the sender's frame (Go's recvDirect).
    TransferElem(c->type_, dst, {sg->elem, sg->elem_copy});
  } else {
    // The buffer is full (a sender waits): take its head, and put the sender's element in
    // the slot just freed, which becomes the tail. FIFO order is kept.
    unsigned char* slot = c->Slot(c->recvx_);
    TransferElem(c->type_, dst, {slot, false});
    c->type_->destroy(slot);
    TransferElem(c->type_, {slot, true}, {sg->elem, sg->elem_copy});
    if (++c->recvx_ == c->cap_) c->recvx_ = 0;
    c->sendx_ = c->recvx_;
  }
  sg->success = true;
  unlock(arg);
  WakeWaiter(sg);
}

// --- The channel API ---

ChanCore* NewChan(const ElemType* type, size_t capacity) {
  // Go's makechan panics with "makechan: size out of range" when the buffer is over its
  // largest allocation (maxAlloc, 2^48 bytes on 64-bit Linux). goro has no recover, so it
  // is a fatal error here, like every Go panic goro reproduces; and so is a buffer under
  // that limit that the allocator cannot provide, instead of a std::bad_alloc escaping the
  // caller (an exception out of a goroutine would end the process anyway, with a vaguer
  // message).
  if (type->size != 0 && capacity > kMaxChanBufferBytes / type->size) {
    GORO_FATAL("makechan: size out of range (capacity ", capacity, " of ", type->size,
               "-byte elements is over the ", kMaxChanBufferBytes, "-byte limit)");
  }
  unsigned char* buf = nullptr;
  const size_t bytes = capacity * type->size;
  if (capacity > 0) {
    buf = static_cast<unsigned char*>(
        ::operator new(bytes, std::align_val_t(type->align), std::nothrow));
    if (buf == nullptr) {
      GORO_FATAL("makechan: size out of range (capacity ", capacity, " of ", type->size,
                 "-byte elements: allocating ", bytes, " bytes failed)");
    }
  }
  return new ChanCore(type, capacity, buf);
}

void ChanRef(ChanCore* c) {
  // Relaxed: a new reference is made from an existing one, which keeps the core alive.
  if (c != nullptr) c->refs_.fetch_add(1, std::memory_order_relaxed);
}

void ChanUnref(ChanCore* c) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  if (c == nullptr) return;
  // acq_rel: every use through other handles happens-before the destruction below.
  if (c->refs_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  // Nobody holds a handle, so nobody can wake a waiter: queued waiters are possible only
  // at shutdown, when Run destroys the callables of goroutines it abandons (a Go program
  // exits with goroutines blocked on channels, as the prime sieve does). Their records live
  // on those goroutines' stacks and are not touched.
  Sched* s = sched();
  const bool shutting_down = s != nullptr && s->shutting_down.load(std::memory_order_acquire);
  GORO_CHECK(shutting_down || (c->recvq_.empty() && c->sendq_.empty()));
  size_t n = c->qcount_.load(std::memory_order_relaxed);
  for (size_t i = 0, x = c->recvx_; i < n; ++i) {
    c->type_->destroy(c->Slot(x));
    if (++x == c->cap_) x = 0;
  }
  if (c->buf_ != nullptr) ::operator delete(c->buf_, std::align_val_t(c->type_->align));
  delete c;
}

bool ChanSend(ChanCore* c, ElemSrc src, bool block) {
  // Only Chan::Send blocks; TrySend may run on any thread. The G found here is the one
  // that parks below (one CurrentG per operation).
  G* const g = block ? RequireGoroutine("goro::Chan::Send") : nullptr;
  if (c == nullptr) {
    if (!block) return false;
    SafePoint();
    BlockForever(WaitReason::kChanSendNilChan);
  }
  if (block) SafePointOf(g);

  c->lock_.Lock();
  if (c->closed_) {
    c->lock_.Unlock();
    FatalSendOnClosed(c);
  }
  if (Sudog* sg = c->recvq_.Dequeue()) {
    SendToWaiterLocked(c, sg, src, &UnlockChan, c);
    return true;
  }
  if (c->qcount_.load(std::memory_order_relaxed) < c->cap_) {
    BufSendLocked(c, src);
    c->lock_.Unlock();
    return true;
  }
  if (!block) {
    c->lock_.Unlock();
    return false;
  }

  // Block: queue a record in this frame and park with the lock held.
  Sudog sg;
  sg.g = g;
  sg.elem = src.p;
  sg.elem_copy = src.copy;
  sg.c = c;
  c->sendq_.Enqueue(&sg);
  ParkOnChan(g, WaitReason::kChanSend, &UnlockChan, c);
  CheckWoken(&sg);
  if (!sg.success) FatalSendOnClosed(c);  // woken by close (Go panics here)
  return true;
}

RecvResult ChanRecv(ChanCore* c, ElemDst dst, bool block) {
  // Only Chan::Receive blocks; TryReceive may run on any thread (as for ChanSend).
  G* const g = block ? RequireGoroutine("goro::Chan::Receive") : nullptr;
  if (c == nullptr) {
    if (!block) return {false, false};
    SafePoint();
    BlockForever(WaitReason::kChanReceiveNilChan);
  }
  if (block) SafePointOf(g);

  c->lock_.Lock();
  if (c->closed_ && c->qcount_.load(std::memory_order_relaxed) == 0) {
    c->lock_.Unlock();
    ZeroElem(c->type_, dst);
    return {true, false};
  }
  if (Sudog* sg = c->sendq_.Dequeue()) {
    RecvFromWaiterLocked(c, sg, dst, &UnlockChan, c);
    return {true, true};
  }
  if (c->qcount_.load(std::memory_order_relaxed) > 0) {
    BufRecvLocked(c, dst);
    c->lock_.Unlock();
    return {true, true};
  }
  if (!block) {
    c->lock_.Unlock();
    return {false, false};
  }

  Sudog sg;
  sg.g = g;
  sg.elem = dst.p;
  sg.elem_raw = dst.raw;
  sg.c = c;
  c->recvq_.Enqueue(&sg);
  ParkOnChan(g, WaitReason::kChanReceive, &UnlockChan, c);
  CheckWoken(&sg);
  if (!sg.success) ZeroElem(c->type_, dst);  // woken by close
  return {true, sg.success};
}

void ChanClose(ChanCore* c) {
  if (c == nullptr) GORO_FATAL("close of nil channel");
  c->lock_.Lock();
  if (c->closed_) {
    c->lock_.Unlock();
    GORO_FATAL("close of closed channel (chan ", static_cast<const void*>(c), ")");
  }
  c->closed_ = true;
  // Take every waiter off the queues under the lock (receivers first, each queue in FIFO
  // order), then wake them after unlocking (Go collects a gList the same way).
  Sudog* head = nullptr;
  Sudog* tail = nullptr;
  auto take = [&](WaitQueue& q) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    while (Sudog* sg = q.Dequeue()) {
      sg->success = false;
      if (tail == nullptr) {
        head = sg;
      } else {
        tail->next = sg;
      }
      tail = sg;
    }
  };
  take(c->recvq_);
  take(c->sendq_);
  c->lock_.Unlock();
  while (head != nullptr) {
    Sudog* next = head->next;  // read before the wakeup; the record may vanish after it
    WakeWaiter(head);
    head = next;
  }
}

size_t ChanLen(const ChanCore* c) {
  // Relaxed: a snapshot, as racy as Go's len(c).
  return c == nullptr ? 0 : c->qcount_.load(std::memory_order_relaxed);
}

size_t ChanCap(const ChanCore* c) { return c == nullptr ? 0 : c->cap_; }

}  // namespace goro::runtime_internal

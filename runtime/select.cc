// goro::Select (Go's runtime/select.go, selectgo): lock every channel of the select in
// address order, perform a ready case chosen at random, or queue a record on every channel
// and park until one of them fires.

#include "runtime/select.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>

#include "absl/base/attributes.h"
#include "absl/container/inlined_vector.h"
#include "base/fatal.h"
#include "runtime/chan_core.h"
#include "runtime/misuse.h"
#include "runtime/park.h"
#include "runtime/safe_point.h"

namespace goro {
namespace runtime_internal {
namespace {

// --- Cheap per-thread randomness (Go's cheaprand) ---

// Not inlined: the thread-local address must not be cached across a goroutine switch
// (DESIGN.md 8). Callers use it before they could park, but keep the rule anyway.
ABSL_ATTRIBUTE_NOINLINE uint64_t CheapRand() {
  // Owner: the calling thread. wyrand state; 0 = not seeded yet.
  static thread_local uint64_t state = 0;
  static std::atomic<uint64_t> seeds{0};
  if (state == 0) {
    // Relaxed: only needs distinct values per thread.
    uint64_t s = seeds.fetch_add(0x9e3779b97f4a7c15ULL, std::memory_order_relaxed);
    s ^= static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    s ^= reinterpret_cast<uintptr_t>(&state);
    state = s | 1;
  }
  state += 0xa0761d6478bd642fULL;
  __uint128_t m = static_cast<__uint128_t>(state) * (state ^ 0xe7037ed1a0b428dbULL);
  return static_cast<uint64_t>(m >> 64) ^ static_cast<uint64_t>(m);
}

// A uniform value in [0, n) (Lemire's multiply-shift; the bias is negligible here).
uint32_t CheapRandN(uint32_t n) {
  const uint64_t r = static_cast<uint32_t>(CheapRand());
  return static_cast<uint32_t>((r * n) >> 32);
}

// The distinct channels of a select in ascending address order (Go's lockorder after
// dedup). Lives in the selecting goroutine's frame.
struct LockSet {
  ChanCore** chans;
  size_t n;
};

// Go's sellock: locks each channel once, in address order, so that two selects (or a
// select and a plain operation) can never deadlock.
void SelLock(const LockSet& ls) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  for (size_t i = 0; i < ls.n; ++i) ls.chans[i]->lock_.Lock();
}

// Go's selunlock, usable as the Park commit's unlock: reads the set while every lock is
// still held, and touches nothing of the caller's frame after the last unlock (the select
// may resume as soon as a waker gets one lock — it then blocks relocking the ones still
// held here, so the frame stays alive until this loop's last unlock).
void SelUnlock(void* arg) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  auto* ls = static_cast<const LockSet*>(arg);
  ChanCore** chans = ls->chans;
  const size_t n = ls->n;
  for (size_t i = 0; i < n; ++i) chans[i]->lock_.Unlock();
}

using Access = SelectCaseAccess;

}  // namespace
}  // namespace runtime_internal

int Select(std::span<const SelectCase> cases, bool has_default) {
  using namespace runtime_internal;  // NOLINT(build/namespaces): the select internals
  if (cases.size() > 65535) GORO_FATAL("select with ", cases.size(), " cases (max 65535)");
  if (!has_default) {
    SafePointOf(RequireGoroutine("goro::Select"));
  }

  // pollorder: the non-nil cases in random order (inside-out Fisher-Yates, as Go).
  absl::InlinedVector<uint16_t, 8> poll;
  poll.reserve(cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    if (Access::chan(cases[i]) == nullptr) continue;  // nil channel: never fires
    const size_t m = poll.size();
    poll.push_back(static_cast<uint16_t>(i));
    std::swap(poll[m], poll[CheapRandN(static_cast<uint32_t>(m + 1))]);
  }
  const size_t norder = poll.size();
  if (norder == 0) {
    if (has_default) return -1;
    Park(cases.empty() ? WaitReason::kSelectNoCases : WaitReason::kSelect, nullptr, nullptr);
    GORO_FATAL("goroutine ", CurrentG()->id, " woke from a select with no channels");
  }

  // lockorder: the cases sorted by channel address; lock each distinct channel once.
  absl::InlinedVector<uint16_t, 8> order(poll.begin(), poll.end());
  std::sort(order.begin(), order.end(), [&](uint16_t a, uint16_t b) {
    ChanCore* ca = Access::chan(cases[a]);
    ChanCore* cb = Access::chan(cases[b]);
    return ca != cb ? std::less<ChanCore*>()(ca, cb) : a < b;
  });
  absl::InlinedVector<ChanCore*, 8> chans;
  for (uint16_t i : order) {
    ChanCore* c = Access::chan(cases[i]);
    if (chans.empty() || chans.back() != c) chans.push_back(c);
  }
  LockSet locks{chans.data(), chans.size()};
  SelLock(locks);

  // Pass 1: look for a case that can proceed now, in random order.
  for (uint16_t i : poll) {
    const SelectCase& sc = cases[i];
    ChanCore* c = Access::chan(sc);
    if (Access::send(sc)) {
      ElemSrc src{Access::elem(sc), Access::copy(sc)};
      if (c->closed_) {
        SelUnlock(&locks);
        FatalSendOnClosed(c);
      }
      if (Sudog* sg = c->recvq_.Dequeue()) {
        SendToWaiterLocked(c, sg, src, &SelUnlock, &locks);
        return i;
      }
      if (c->qcount_.load(std::memory_order_relaxed) < c->cap_) {
        BufSendLocked(c, src);
        SelUnlock(&locks);
        return i;
      }
    } else {
      ElemDst dst{Access::elem(sc), /*raw=*/false};
      bool* ok = Access::ok(sc);
      if (Sudog* sg = c->sendq_.Dequeue()) {
        RecvFromWaiterLocked(c, sg, dst, &SelUnlock, &locks);
        if (ok != nullptr) *ok = true;
        return i;
      }
      if (c->qcount_.load(std::memory_order_relaxed) > 0) {
        BufRecvLocked(c, dst);
        SelUnlock(&locks);
        if (ok != nullptr) *ok = true;
        return i;
      }
      if (c->closed_) {
        SelUnlock(&locks);
        ZeroElem(c->type_, dst);
        if (ok != nullptr) *ok = false;
        return i;
      }
    }
  }
  if (has_default) {
    SelUnlock(&locks);
    return -1;
  }

  // Pass 2: queue a record on every channel (in lock order) and park. The records live in
  // this frame; they must not move once queued, so the array is sized up front.
  G* g = CurrentG();
  SelectWait wait;
  Sudog inline_sgs[4];
  std::unique_ptr<Sudog[]> heap_sgs;
  Sudog* sgs = inline_sgs;
  if (norder > 4) {
    heap_sgs.reset(new Sudog[norder]);
    sgs = heap_sgs.get();
  }
  for (size_t k = 0; k < norder; ++k) {
    const SelectCase& sc = cases[order[k]];
    Sudog* sg = &sgs[k];
    sg->g = g;
    sg->elem = Access::elem(sc);
    sg->c = Access::chan(sc);
    sg->select = &wait;
    if (Access::send(sc)) {
      sg->elem_copy = Access::copy(sc);
      sg->c->sendq_.Enqueue(sg);
    } else {
      sg->c->recvq_.Enqueue(sg);
    }
  }
  ParkOnChan(g, WaitReason::kSelect, &SelUnlock, &locks);

  // Woken by exactly one channel. Acquire: pairs with WakeWaiter's release, so the
  // winner's element transfer and success flag are visible.
  Sudog* winner = wait.winner.load(std::memory_order_acquire);
  if (winner == nullptr) {
    GORO_FATAL("select resumed without a wakeup: goroutine ", g->id);
  }
  // Take the other records off their queues (Go's pass 3). Records a Dequeue already
  // dropped are no longer queued; Remove skips them.
  SelLock(locks);
  for (size_t k = 0; k < norder; ++k) {
    Sudog* sg = &sgs[k];
    if (sg == winner) continue;
    if (Access::send(cases[order[k]])) {
      sg->c->sendq_.Remove(sg);
    } else {
      sg->c->recvq_.Remove(sg);
    }
  }
  SelUnlock(&locks);

  const size_t k = static_cast<size_t>(winner - sgs);
  const int casi = order[k];
  const SelectCase& sc = cases[casi];
  if (Access::send(sc)) {
    if (!winner->success) FatalSendOnClosed(winner->c);  // woken by close
  } else {
    if (!winner->success) ZeroElem(winner->c->type_, {Access::elem(sc), false});
    if (bool* ok = Access::ok(sc)) *ok = winner->success;
  }
  return casi;
}

}  // namespace goro

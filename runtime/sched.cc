// The scheduler's shared state and its primitive operations (sched.h): the global run
// queue, the idle P and M lists, acquirep/releasep, the current M and per-M randomness.

#include "runtime/sched.h"

#include <cstdint>

namespace goro::runtime_internal {

std::atomic<Sched*> g_sched{nullptr};
std::atomic<int64_t> g_threads_unjoined{0};
std::atomic<int64_t> g_service_threads{0};

namespace {

// Owner: the calling thread.
thread_local M* t_current_m = nullptr;
thread_local uint64_t t_fallback_rand = 0;

}  // namespace

__attribute__((noipa)) M* CurrentM() { return t_current_m; }
__attribute__((noipa)) void SetCurrentM(M* m) { t_current_m = m; }

uint32_t FastRand() {
  M* m = CurrentM();
  uint64_t* state = m != nullptr ? &m->rand_state : &t_fallback_rand;
  if (*state == 0) *state = 0x2545f4914f6cdd1dULL ^ reinterpret_cast<uintptr_t>(state);
  // xorshift64*
  uint64_t x = *state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *state = x;
  return static_cast<uint32_t>((x * 0x2545f4914f6cdd1dULL) >> 32);
}

void GlobRunqPutLocked(Sched* s, G* g) {
  g->sched_link = nullptr;
  if (s->runq_tail != nullptr) {
    s->runq_tail->sched_link = g;
  } else {
    s->runq_head = g;
  }
  s->runq_tail = g;
  s->runq_size.fetch_add(1, std::memory_order_relaxed);
}

void GlobRunqPutBatchLocked(Sched* s, const RunQueue::Batch& b) {
  b.tail->sched_link = nullptr;
  if (s->runq_tail != nullptr) {
    s->runq_tail->sched_link = b.head;
  } else {
    s->runq_head = b.head;
  }
  s->runq_tail = b.tail;
  s->runq_size.fetch_add(static_cast<int32_t>(b.n), std::memory_order_relaxed);
}

bool RunqPutOrSpill(Sched* s, P* p, G* g, bool next) {
  RunQueue::Batch overflow;
  if (p->runq.Put(g, next, &overflow)) return true;
  base_internal::OsMutexLock lock(&s->mu);
  GlobRunqPutBatchLocked(s, overflow);
  return false;
}

namespace {

G* GlobRunqPopLocked(Sched* s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu) {
  G* g = s->runq_head;
  if (g == nullptr) return nullptr;
  s->runq_head = g->sched_link;
  if (s->runq_head == nullptr) s->runq_tail = nullptr;
  g->sched_link = nullptr;
  s->runq_size.fetch_sub(1, std::memory_order_relaxed);
  return g;
}

}  // namespace

// Go's globrunqget: one G to run now, and a fair share moved to p's local queue.
G* GlobRunqGetLocked(Sched* s, P* p) {
  int32_t size = s->runq_size.load(std::memory_order_relaxed);
  if (size == 0) return nullptr;
  int32_t n = size / s->nprocs + 1;
  if (n > size) n = size;
  if (n > static_cast<int32_t>(RunQueue::kSize / 2)) n = RunQueue::kSize / 2;
  G* g = GlobRunqPopLocked(s);
  for (int32_t i = 1; i < n; ++i) {
    G* extra = GlobRunqPopLocked(s);
    RunQueue::Batch overflow;
    if (!p->runq.Put(extra, false, &overflow)) GlobRunqPutBatchLocked(s, overflow);
  }
  return g;
}

DeadGCounts ReadDeadGCounts(Sched* s) {
  base_internal::OsMutexLock lock(&s->mu);
  return {s->ngfree, s->ngfree_nostack};
}

void PidlePutLocked(Sched* s, P* p) {
  p->status.store(kPIdle, std::memory_order_release);
  p->m.store(nullptr, std::memory_order_relaxed);
  p->link = s->pidle;
  s->pidle = p;
  s->npidle.fetch_add(1, std::memory_order_relaxed);
}

P* PidleGetLocked(Sched* s) {
  P* p = s->pidle;
  if (p == nullptr) return nullptr;
  s->pidle = p->link;
  p->link = nullptr;
  s->npidle.fetch_sub(1, std::memory_order_relaxed);
  return p;
}

void MPutLocked(Sched* s, M* m) {
  m->schedlink = s->midle;
  s->midle = m;
  m->idle = true;
  s->nmidle++;
}

M* MGetLocked(Sched* s) {
  M* m = s->midle;
  if (m == nullptr) return nullptr;
  s->midle = m->schedlink;
  m->schedlink = nullptr;
  m->idle = false;
  s->nmidle--;
  return m;
}

void MRemoveLocked(Sched* s, M* m) {
  for (M** link = &s->midle; *link != nullptr; link = &(*link)->schedlink) {
    if (*link == m) {
      *link = m->schedlink;
      m->schedlink = nullptr;
      m->idle = false;
      s->nmidle--;
      return;
    }
  }
}

void AcquireP(M* m, P* p) {
  p->m.store(m, std::memory_order_relaxed);
  p->status.store(kPRunning, std::memory_order_release);
  m->p.store(p, std::memory_order_relaxed);
  if (const TraceHooks* hooks = TraceHooksIfOn()) hooks->proc_start(p);
}

P* ReleaseP(M* m) {
  P* p = m->p.load(std::memory_order_relaxed);
  if (p != nullptr) {
    if (const TraceHooks* hooks = TraceHooksIfOn()) hooks->proc_stop(p);
  }
  m->p.store(nullptr, std::memory_order_relaxed);
  if (p != nullptr) p->m.store(nullptr, std::memory_order_relaxed);
  return p;
}

// A P stops for stop-the-world (Go's gcstopm bookkeeping). Scheduler lock held.
void StopPForWorldLocked(Sched* s, P* p) {
  p->status.store(kPGCStop, std::memory_order_release);
  p->m.store(nullptr, std::memory_order_relaxed);
  if (--s->stopwait == 0) s->stopnote.Wakeup();
}

}  // namespace goro::runtime_internal

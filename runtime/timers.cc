// Timers (Go's time.go, reduced): one process-wide heap ordered by deadline. Idle Ms sleep
// until the earliest deadline; running Ms and sysmon run expired timers.

#include <algorithm>
#include <vector>

#include "base/fatal.h"
#include "base/mutex.h"
#include "runtime/scheduler.h"

namespace goro::runtime_internal {
namespace {

TimerHeap& Timers() {
  Sched* s = sched();
  if (s == nullptr) GORO_FATAL("timers used outside goro::Run");
  return s->timers;
}

// Min-heap on (when, seq): std::push_heap builds a max-heap, so compare reversed.
bool Later(const Timer* a, const Timer* b) {
  return a->when_ns != b->when_ns ? a->when_ns > b->when_ns : a->seq > b->seq;
}

}  // namespace

void AddTimer(Timer* t) {
  TimerHeap& h = Timers();
  bool earliest;
  {
    base_internal::OsMutexLock lock(&h.mu);
    t->seq = h.seq++;
    h.heap.push_back(t);
    std::push_heap(h.heap.begin(), h.heap.end(), Later);
    int64_t old = h.next.load(std::memory_order_relaxed);
    earliest = h.heap.front() == t && t->when_ns < old;
    h.next.store(h.heap.front()->when_ns, std::memory_order_release);
  }
  if (!earliest) return;
  // Idle Ms sleep until the old earliest deadline: wake one to recompute.
  Sched* s = sched();
  M* m = nullptr;
  {
    base_internal::OsMutexLock lock(&s->mu);
    m = s->midle;
    if (m != nullptr) {
      s->midle = m->schedlink;
      m->schedlink = nullptr;
      m->idle = false;
      s->nmidle--;
      m->nextp = nullptr;
    }
  }
  if (m != nullptr) m->park.Wakeup();
}

int64_t NextTimerDeadline() {
  Sched* s = sched();
  return s == nullptr ? INT64_MAX : s->timers.next.load(std::memory_order_acquire);
}

int64_t RunTimers() {
  TimerHeap& h = Timers();
  for (;;) {
    Timer* t = nullptr;
    int64_t now = NanoTime();
    {
      base_internal::OsMutexLock lock(&h.mu);
      if (h.heap.empty()) {
        h.next.store(INT64_MAX, std::memory_order_release);
        return INT64_MAX;
      }
      if (h.heap.front()->when_ns > now) return h.heap.front()->when_ns;
      std::pop_heap(h.heap.begin(), h.heap.end(), Later);
      t = h.heap.back();
      h.heap.pop_back();
      h.running.fetch_add(1, std::memory_order_relaxed);  // published by the release below
      h.next.store(h.heap.empty() ? INT64_MAX : h.heap.front()->when_ns, std::memory_order_release);
    }
    t->fn(t->arg);  // outside the lock: it may add timers or ready Gs
    // Release: what fn did (a G made Runnable) happens-before a reader's acquire of the drop.
    h.running.fetch_sub(1, std::memory_order_release);
  }
}

}  // namespace goro::runtime_internal

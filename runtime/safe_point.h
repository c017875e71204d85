// runtime_internal::SafePointOf: the inline fast path of SafePoint (park.h) for callers
// that already hold their own G. Separate from park.h because it needs Sched (sched.h),
// whose M uses park.h's types.

#ifndef GORO_RUNTIME_SAFE_POINT_H_
#define GORO_RUNTIME_SAFE_POINT_H_

#include <atomic>

#include "absl/base/optimization.h"
#include "runtime/g.h"
#include "runtime/park.h"
#include "runtime/sched.h"

namespace goro::runtime_internal {

// runtime_internal::SafePointOf is SafePoint for a caller that already holds its own G
// (`g` must be CurrentG()): inline, and without the thread-local lookup, for the hot paths
// that found the goroutine anyway (every blocking entry, through RequireGoroutine).
// Precondition: g is the calling goroutine.
inline void SafePointOf(G* g) {
  Sched* s = sched();
  if (ABSL_PREDICT_FALSE(g->preempt_stop.load(std::memory_order_relaxed) ||
                         g->preempt.load(std::memory_order_relaxed) ||
                         s->gcwaiting.load(std::memory_order_relaxed) ||
                         s->shutting_down.load(std::memory_order_relaxed))) {
    SafePointSlow(g, s);
  }
}

}  // namespace goro::runtime_internal

#endif  // GORO_RUNTIME_SAFE_POINT_H_

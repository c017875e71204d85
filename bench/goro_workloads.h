// Workloads that more than one goro benchmark times the same way (goro_peer_bench against
// its peers, trace_benchmark against itself with tracing on): one definition, so that the
// figures they report measure the same code.

#ifndef GORO_BENCH_GORO_WORKLOADS_H_
#define GORO_BENCH_GORO_WORKLOADS_H_

#include <cstdint>

#include "absl/base/attributes.h"

#include "bench/peer_lines.h"
#include "runtime/goro.h"
#include "runtime/sync.h"

namespace goro_bench {

// goro_bench::YieldPair starts two goroutines that each call goro::Yield() `iters` times,
// waits for both, and returns the wall time per yield in nanoseconds.
// Precondition: called from a goroutine inside goro::Run.
inline double YieldPair(int64_t iters) {
  goro::WaitGroup wg;
  wg.Add(2);
  const int64_t t0 = NowNs();
  for (int g = 0; g < 2; ++g) {
    goro::Go([&wg, iters] {
      for (int64_t i = 0; i < iters; ++i) goro::Yield();
      wg.Done();
    });
  }
  wg.Wait();
  return double(NowNs() - t0) / double(2 * iters);
}

// goro_bench::TouchStack recurses `depth` frames of about 1 KiB, writing every frame so
// that its pages are committed (the gc and preemption benchmarks' deep stacks).
// Thread safety: uses only the caller's stack.
ABSL_ATTRIBUTE_NOINLINE inline int TouchStack(int depth) {
  volatile char frame[1024];
  for (int i = 0; i < 1024; i += 256) frame[i] = static_cast<char>(depth + i);
  if (depth == 0) return frame[0];
  return TouchStack(depth - 1) + frame[512];
}

}  // namespace goro_bench

#endif  // GORO_BENCH_GORO_WORKLOADS_H_

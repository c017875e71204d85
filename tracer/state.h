// The tracer's shared state between emission (emit.cc) and the generation advance
// (trace.cc): the per-generation tables, the queue of full buffers, the state of threads
// without an M. Go's trace struct in trace2.go.

#ifndef GORO_TRACER_STATE_H_
#define GORO_TRACER_STATE_H_

#include <atomic>
#include <cstdint>
#include <vector>

#include "base/mutex.h"
#include "runtime/trace_hooks.h"
#include "tracer/batch.h"
#include "tracer/tables.h"

namespace goro::trace::internal {

// The M id written for events from threads that are not Ms (sysmon).
inline constexpr uint64_t kNoMId = 1000000;

struct TracerState {
  // Per-generation tables, indexed by gen % 2.
  StringTable strings[2];
  StackTable stacks[2];

  // Full buffers waiting for the advance thread to write them, in the order they filled,
  // and written buffers kept for reuse (at most kMaxFreeBufs) so that a long trace keeps
  // touching the same warm pages instead of faulting in fresh ones.
  base_internal::OsMutex full_mu{base_internal::LockRank::kTraceFull};
  std::vector<TraceBuf*> full ABSL_GUARDED_BY(full_mu);
  std::vector<TraceBuf*> free ABSL_GUARDED_BY(full_mu);
  // Atomic (relaxed): buffers handed out by NewBuf and not yet given to RecycleBuf. A count
  // for leak checks (BuffersOutstanding), ordered against nothing.
  std::atomic<int64_t> bufs_out{0};

  // Threads without an M share one TraceThreadState, used under orphan_mu.
  base_internal::OsMutex orphan_mu{base_internal::LockRank::kTraceOrphan};
  runtime_internal::TraceThreadState orphan;
};

TracerState& State();

// How many written buffers the free list keeps (64 KiB each).
inline constexpr size_t kMaxFreeBufs = 64;

// internal::NewBuf returns an empty buffer for generation `gen` of trace M `m` whose
// batch starts at `base_time`, reused from the free list when one is there. Its payload
// bytes are not cleared.
TraceBuf* NewBuf(uint64_t gen, uint64_t m, int64_t base_time);

// internal::RecycleBuf returns a written buffer to the free list (or frees it).
void RecycleBuf(TraceBuf* buf);

// internal::TakeBuffer detaches the buffer of generation `gen` from `ts` (null if none).
// Precondition: ts's seqlock is even and the generation is over.
TraceBuf* TakeBuffer(runtime_internal::TraceThreadState* ts, uint64_t gen);

}  // namespace goro::trace::internal

#endif  // GORO_TRACER_STATE_H_

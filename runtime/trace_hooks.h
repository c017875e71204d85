// The tracer's footholds in runtime:core. Core sits below the tracer (DESIGN.md 1) and
// cannot call it, yet some events happen in core code: a P starting or stopping on an M
// (AcquireP/ReleaseP), a P taken from a blocking call by stop-the-world, and the
// stop-the-world itself. The tracer installs TraceHooks while it runs; core calls them only
// when installed. This header also holds the plain per-thread data the tracer keeps in
// each M (its buffers and seqlock), so that core's structs need not know the tracer.

#ifndef GORO_RUNTIME_TRACE_HOOKS_H_
#define GORO_RUNTIME_TRACE_HOOKS_H_

#include <atomic>
#include <cstdint>

namespace goro {

struct M;
struct P;

namespace runtime_internal {

// runtime_internal::TraceThreadState is the tracer's per-thread state (Go's mTraceState):
// one per M, plus one shared by threads without an M (tracer/).
struct TraceThreadState {
  // Odd while the thread is between a trace acquire and its release (Go's seqlock); the
  // generation advance waits for it to be even before flushing this thread's buffer.
  // Written only by the owning thread (made odd with a plain store where the tracer's
  // asymmetric fence is in use, with a locked add elsewhere: tracer/asymmetric_fence.h);
  // read by the advance.
  std::atomic<uint64_t> seqlock{0};
  // Owner: the owning thread inside an acquire window; the advance once the generation is
  // over. The tracer's buffers, indexed by generation parity (each a
  // goro::trace::internal::TraceBuf*, tracer/batch.h; void* here because core sits below
  // the tracer).
  void* buf[2] = {nullptr, nullptr};
  // Owner: the owning thread. The generation of the open window while seqlock is odd, so
  // that a window opened inside another (a core hook inside a scheduler site) joins it.
  uint64_t window_gen = 0;
  // Owner: the owning thread inside a window. The open window's scratch, for the tracer
  // (tracer/emit.cc): how many windows joined it, its M (null for the threads without one),
  // the clock read when it opened (taken by its first event), and a time that overrides the
  // clock while nonzero (a ProcSteal's stamp).
  int window_joined = 0;
  M* window_m = nullptr;
  int64_t window_opened = 0;
  int64_t window_when = 0;
};

// runtime_internal::TraceHooks are the tracer's entry points for events core emits. Each
// re-checks whether tracing is on; they may run on any M, on its scheduler stack or not.
struct TraceHooks {
  // P `p` just became Running on the calling M (Go's traceProcStart).
  void (*proc_start)(P* p) = nullptr;
  // The calling M is about to give up its P `p` (Go's traceProcStop).
  void (*proc_stop)(P* p) = nullptr;
  // P `p`, in a blocking call on M `from`, was just taken by the calling thread (ProcSteal).
  // `when` is trace_now() read *after* seeing the P in its blocking call (a load of its
  // status) and *before* the CAS that took it: M `from` stamped its GoSyscallBegin before
  // it stored that status, and sees the P gone only after the CAS, so its GoSyscallEndBlocked
  // comes later; the steal sorts between the two by time. A stamp taken before the status
  // was seen could precede GoSyscallBegin by more than the clock's own disorder
  // (tracer/clock.h), which the reader's merge resolves in either case.
  void (*proc_steal)(P* p, M* from, int64_t when) = nullptr;
  // The trace clock, for `when` above.
  int64_t (*trace_now)() = nullptr;
  // The calling goroutine began / ended stopping the world. stw_begin runs while the
  // goroutine is Waiting with the Waiting-for-GC reason kStoppingTheWorld, on its M's
  // scheduler stack: the stack it captures is its own, through M::curg (DESIGN.md 4).
  void (*stw_begin)(int kind) = nullptr;
  void (*stw_end)() = nullptr;
};

// runtime_internal::g_trace_hooks is non-null while tracing may be on. Set by the tracer's
// Start before the first generation, cleared by Stop after the last; the hooks themselves
// are static functions, so a call racing with Stop is harmless (it finds tracing off).
inline std::atomic<const TraceHooks*> g_trace_hooks{nullptr};

// runtime_internal::TraceHooksIfOn returns the hooks, or null when the tracer is off: one
// acquire load, the whole cost of tracing support in core when tracing is off.
// With GORO_TRACE_COMPILED_OUT (tracer/emit.h) it is a constant null.
#ifdef GORO_TRACE_COMPILED_OUT
constexpr const TraceHooks* TraceHooksIfOn() { return nullptr; }
#else
inline const TraceHooks* TraceHooksIfOn() { return g_trace_hooks.load(std::memory_order_acquire); }
#endif

}  // namespace runtime_internal
}  // namespace goro

#endif  // GORO_RUNTIME_TRACE_HOOKS_H_

// goro::base_internal no-preemption depth: a per-thread counter that the asynchronous
// preemption handler (runtime/preempt.h) reads to refuse to stop a thread inside goro's own
// critical sections (Go's m.locks, raised by lock() and acquirem()).
//
// Every runtime lock (OsMutex, SpinLock) and every trace event window raise it while they
// run; so does every runtime entry point that uses state the current P owns (a goroutine
// stopped by a signal keeps its thread but may come back on another P). (The switch to the
// scheduler stack is covered by the request it leaves in the M: runtime/park.cc.) The
// counter lives with the thread, not the goroutine: a goroutine that is stopped
// asynchronously resumes on the same thread, and the only section held across a cooperative
// switch (a SpinLock released by a Park commit) ends on the same thread's scheduler stack.

#ifndef GORO_BASE_NO_PREEMPT_H_
#define GORO_BASE_NO_PREEMPT_H_

#include <atomic>
#include <cstdint>

namespace goro::base_internal {

// Owner: the calling thread; read by a signal handler on the same thread, never by another
// thread. A plain int, not a std::atomic: the increment is then one instruction on x86-64
// (`addl $1, %fs:...`; an atomic's load and store are three), and this counter is touched
// by every runtime lock. A handler interrupts its own thread between two instructions, so
// it sees each update either done or not done, and both are right (a section not yet
// entered, or not yet left, is treated as such); the signal fences below keep the compiler
// from moving the section's own accesses across the update or from keeping the counter in
// a register. Initial-exec TLS: no __tls_get_addr (which may allocate) in the handler.
inline thread_local int32_t t_no_preempt __attribute__((tls_model("initial-exec"))) = 0;

// base_internal::NoPreemptEnter raises the calling thread's no-preemption depth.
// Thread safety: the calling thread only.
inline void NoPreemptEnter() {
  t_no_preempt = t_no_preempt + 1;
  // Orders the raise before the critical section, for a handler on this thread.
  std::atomic_signal_fence(std::memory_order_seq_cst);
}

// base_internal::NoPreemptExit lowers it again.
// Thread safety: the calling thread only.
inline void NoPreemptExit() {
  // Orders the critical section before the lowering, for a handler on this thread.
  std::atomic_signal_fence(std::memory_order_seq_cst);
  t_no_preempt = t_no_preempt - 1;
}

// base_internal::NoPreemptDepth returns the calling thread's depth (0: preemptible).
// Async-signal-safe (a volatile read of the thread's own counter).
// Thread safety: the calling thread only.
inline int32_t NoPreemptDepth() { return *static_cast<volatile int32_t*>(&t_no_preempt); }

// base_internal::NoPreemptScope raises the depth for its scope.
// Thread safety: not shared; one per scope.
class NoPreemptScope {
 public:
  NoPreemptScope() { NoPreemptEnter(); }
  NoPreemptScope(const NoPreemptScope&) = delete;
  NoPreemptScope& operator=(const NoPreemptScope&) = delete;
  ~NoPreemptScope() { NoPreemptExit(); }
};

}  // namespace goro::base_internal

#endif  // GORO_BASE_NO_PREEMPT_H_

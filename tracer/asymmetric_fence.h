// The asymmetric fence between the tracer's acquire windows and the generation advance.
//
// An acquire (EventBracket::Open, Go's traceAcquire) marks its thread's seqlock odd and
// then loads the current generation; the advance stores the next generation and then reads
// every thread's seqlock. That is Dekker's pattern: each side stores and then loads the
// other's variable, and without a full fence on both sides each could miss the other's
// store (x86 lets a load pass an earlier store to another address), so the advance could
// take a buffer while a window of the old generation is still writing into it. Go pays a
// locked add on every acquire for this. Acquires happen several times per goroutine switch
// and advances about once a second, so goro moves the whole cost to the advance: the
// acquire side is a compiler barrier only, and the advance calls membarrier(2) with
// MEMBARRIER_CMD_PRIVATE_EXPEDITED, which runs a full memory barrier on every CPU that is
// running a thread of this process before it returns (a thread that is not running went
// through a context switch, itself a full barrier). Then for every thread either its odd
// seqlock is visible to the advance, or its load of the generation comes after the barrier
// and sees the new one; the same argument as folly's asymmetricLightBarrier and liburcu's
// membarrier flavour.
//
// Where the kernel lacks the expedited command (before Linux 4.14, or seccomp forbids it),
// or on a CPU other than x86-64 (the aarch64 build runs under qemu-user, whose translated
// code the argument has not been checked against), both sides keep full fences: the
// acquire's locked add and the advance's sequentially consistent store.

#ifndef GORO_TRACER_ASYMMETRIC_FENCE_H_
#define GORO_TRACER_ASYMMETRIC_FENCE_H_

#include <atomic>

namespace goro::trace::internal {

// Set once, by the first InitAsymmetricFence that succeeds, before the first generation is
// published; never cleared. While false, acquires use the locked add.
extern std::atomic<bool> g_light_acquire;

// internal::InitAsymmetricFence registers the process for expedited membarrier (once per
// process; later calls return the first result) and sets g_light_acquire on success.
// Must run before the first generation is published. Thread safety: thread-safe.
bool InitAsymmetricFence();

// internal::HeavyFence is the advance's side: after it returns, every thread's store that
// preceded its last compiler barrier is visible to the caller, or that thread's next load
// sees every store the caller made before the call. A no-op while g_light_acquire is false
// (the acquires then fence themselves). Fatal if membarrier fails after registering.
void HeavyFence();

}  // namespace goro::trace::internal

#endif  // GORO_TRACER_ASYMMETRIC_FENCE_H_

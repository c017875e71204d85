// goro::WaitReason: why a goroutine is Waiting (Go's waitReason), with a name for each and
// the registered Waiting-for-GC set (Go's isWaitingForGC table).

#ifndef GORO_RUNTIME_WAIT_REASON_H_
#define GORO_RUNTIME_WAIT_REASON_H_

#include <cstdint>

namespace goro {

// goro::WaitReason says why a G is in Waiting. The names are Go's strings, so goroutine
// dumps and traces read the same as Go's. Reasons marked [GC] are in the Waiting-for-GC
// set: the G is not parked at all but executing on its M's scheduler stack, and went to
// Waiting only so that a collector or tracer may take its stack (DESIGN.md 3).
enum class WaitReason : uint8_t {
  kZero = 0,               // ""
  kChanReceiveNilChan,     // "chan receive (nil chan)"
  kChanSendNilChan,        // "chan send (nil chan)"
  kChanReceive,            // "chan receive"
  kChanSend,               // "chan send"
  kSelect,                 // "select"
  kSelectNoCases,          // "select (no cases)"
  kSleep,                  // "sleep"
  kSemacquire,             // "semacquire"
  kSyncMutexLock,          // "sync.Mutex.Lock"
  kSyncRWMutexRLock,       // "sync.RWMutex.RLock"
  kSyncRWMutexLock,        // "sync.RWMutex.Lock"
  kSyncCondWait,           // "sync.Cond.Wait"
  kSyncWaitGroupWait,      // "sync.WaitGroup.Wait"
  kIOWait,                 // "IO wait"
  kPanicWait,              // "panicwait"
  kDumpingHeap,            // "dumping heap" (Go leaves it out of the GC set; so do we)
  kTraceReaderBlocked,     // "trace reader (blocked)"
  kWaitForGCCycle,         // "wait for GC cycle"
  kGCAssistWait,           // "GC assist wait" (a real park; NOT "GC assist marking")
  kGCWorkerIdle,           // "GC worker (idle)"
  kForceGCIdle,            // "force gc (idle)"
  kPreempted,              // "preempted" (set by CasGFromPreempted)
  kDebugCall,              // "debug call"
  kCoroutine,              // "coroutine"
  // The Waiting-for-GC set; keep kWaitingForGCReasons in wait_reason.cc in step.
  kStoppingTheWorld,       // [GC] "stopping the world"
  kGCMarkTermination,      // [GC] "GC mark termination"
  kGarbageCollection,      // [GC] "garbage collection"
  kGarbageCollectionScan,  // [GC] "garbage collection scan" (a G scanning its own stack)
  kTraceGoroutineStatus,   // [GC] "trace goroutine status" (the tracer's status pass)
  kTraceProcStatus,        // [GC] "trace proc status"
  kPageTraceFlush,         // [GC] "page trace flush"
  kGCAssistMarking,        // [GC] "GC assist marking"
  kGCWorkerActive,         // [GC] "GC worker (active)"
  kFlushProcCaches,        // [GC] "flushing proc caches"
  kGoroutineDump,          // [GC] "goroutine dump" (goro's own: the dumper's G, diag/)
  kNumReasons,             // Not a reason: the count.
};

// goro::WaitReasonString returns the reason's name ("chan receive", ...), or "unknown
// wait reason" for an out-of-range value. The string is static: safe on fatal paths.
// Thread safety: thread-safe, async-signal-safe.
const char* WaitReasonString(WaitReason reason);

// goro::IsWaitingForGC reports whether `reason` is in the registered Waiting-for-GC set
// (Go's waitReason.isWaitingForGC): a G Waiting for such a reason is really running on its
// M's scheduler stack. The tracer reports it as Running; CasGToWaitingForGC accepts only
// these reasons; the shrinker leaves such a stack alone while tracing.
// Thread safety: thread-safe, async-signal-safe.
bool IsWaitingForGC(WaitReason reason);

}  // namespace goro

#endif  // GORO_RUNTIME_WAIT_REASON_H_

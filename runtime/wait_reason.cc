// Wait-reason names and the Waiting-for-GC table.

#include "runtime/wait_reason.h"

#include <array>
#include <cstddef>
#include <iterator>

namespace goro {
namespace {

constexpr size_t kCount = static_cast<size_t>(WaitReason::kNumReasons);

constexpr const char* kNames[] = {
    "",                         // kZero
    "chan receive (nil chan)",  // kChanReceiveNilChan
    "chan send (nil chan)",     // kChanSendNilChan
    "chan receive",             // kChanReceive
    "chan send",                // kChanSend
    "select",                   // kSelect
    "select (no cases)",        // kSelectNoCases
    "sleep",                    // kSleep
    "semacquire",               // kSemacquire
    "sync.Mutex.Lock",          // kSyncMutexLock
    "sync.RWMutex.RLock",       // kSyncRWMutexRLock
    "sync.RWMutex.Lock",        // kSyncRWMutexLock
    "sync.Cond.Wait",           // kSyncCondWait
    "sync.WaitGroup.Wait",      // kSyncWaitGroupWait
    "IO wait",                  // kIOWait
    "panicwait",                // kPanicWait
    "dumping heap",             // kDumpingHeap
    "trace reader (blocked)",   // kTraceReaderBlocked
    "wait for GC cycle",        // kWaitForGCCycle
    "GC assist wait",           // kGCAssistWait
    "GC worker (idle)",         // kGCWorkerIdle
    "force gc (idle)",          // kForceGCIdle
    "preempted",                // kPreempted
    "debug call",               // kDebugCall
    "coroutine",                // kCoroutine
    "stopping the world",       // kStoppingTheWorld
    "GC mark termination",      // kGCMarkTermination
    "garbage collection",       // kGarbageCollection
    "garbage collection scan",  // kGarbageCollectionScan
    "trace goroutine status",   // kTraceGoroutineStatus
    "trace proc status",        // kTraceProcStatus
    "page trace flush",         // kPageTraceFlush
    "GC assist marking",        // kGCAssistMarking
    "GC worker (active)",       // kGCWorkerActive
    "flushing proc caches",     // kFlushProcCaches
    "goroutine dump",           // kGoroutineDump
};

// The registered Waiting-for-GC set: code that moves a G to Waiting while it keeps running
// on its M's scheduler stack must use one of these reasons (CasGToWaitingForGC checks).
constexpr WaitReason kWaitingForGCReasons[] = {
    WaitReason::kStoppingTheWorld,      WaitReason::kGCMarkTermination,
    WaitReason::kGarbageCollection,     WaitReason::kGarbageCollectionScan,
    WaitReason::kTraceGoroutineStatus,  WaitReason::kTraceProcStatus,
    WaitReason::kPageTraceFlush,        WaitReason::kGCAssistMarking,
    WaitReason::kGCWorkerActive,        WaitReason::kFlushProcCaches,
    WaitReason::kGoroutineDump,
};

constexpr std::array<bool, kCount> MakeWaitingForGCTable() {
  std::array<bool, kCount> table{};
  for (WaitReason r : kWaitingForGCReasons) table[static_cast<size_t>(r)] = true;
  return table;
}

constexpr std::array<bool, kCount> kIsWaitingForGC = MakeWaitingForGCTable();

static_assert(std::size(kNames) == kCount, "kNames is out of step with WaitReason");

}  // namespace

const char* WaitReasonString(WaitReason reason) {
  const auto i = static_cast<size_t>(reason);
  return i < kCount ? kNames[i] : "unknown wait reason";
}

bool IsWaitingForGC(WaitReason reason) {
  const auto i = static_cast<size_t>(reason);
  return i < kCount && kIsWaitingForGC[i];
}

}  // namespace goro

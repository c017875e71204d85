// goro::P: a processor, the right to run goroutines, with its local run queue (Go's p).

#ifndef GORO_RUNTIME_P_H_
#define GORO_RUNTIME_P_H_

#include <atomic>
#include <cstdint>

#include "runtime/run_queue.h"

namespace goro {

struct M;

// goro::PStatus: what a P is doing (Go's _Pidle, _Prunning, _Psyscall, _Pgcstop).
enum PStatus : uint32_t {
  // On the idle list, owned by nobody; the scheduler lock protects it.
  kPIdle = 0,
  // Owned by an M that runs goroutines or scheduling code with it.
  kPRunning = 1,
  // Its M is in a blocking call; sysmon or stop-the-world may take it with a CAS.
  kPSyscall = 2,
  // Stopped for stop-the-world, owned by the stopper.
  kPGCStop = 3,
};

// goro::P is one processor.
struct P {
  // Constant after construction.
  int32_t id = 0;

  // Atomic: transitions Idle/Running under the scheduler lock or by the owning M;
  // Syscall -> Idle/GCStop by CAS (sysmon, stop-the-world, the returning M).
  std::atomic<uint32_t> status{kPIdle};

  // Local runnable Gs (see run_queue.h for its concurrency rules).
  runtime_internal::RunQueue runq;

  // Owner: the M that holds the P (null when idle). Written by that M or under the
  // scheduler lock when the P changes hands.
  std::atomic<M*> m{nullptr};

  // Protected by the scheduler lock: next P on the idle list.
  P* link = nullptr;

  // Protected by the scheduler lock: the idle M that StartM woke to run this P, until that
  // M takes it (M::nextp). Meanwhile the P is neither idle nor running; stop-the-world takes
  // it back rather than wait for the M to wake up (runtime/world.cc). Not set by
  // StartLockedM.
  M* handed_to = nullptr;

  // Atomic (relaxed): counters that sysmon compares between ticks (Go's schedtick and
  // syscalltick) to see a G running too long or a blocking call outlasting a tick.
  // schedtick counts time slices: a G taken from runnext inherits the current one.
  std::atomic<uint32_t> schedtick{0};
  std::atomic<uint32_t> syscalltick{0};

  // Owner: the M holding the P. Every G the P starts running, counted to look at the
  // global run queue and the timers every kGlobalQueueCheckInterval starts. Not schedtick:
  // goroutines sysmon readies (timers) land on the global queue, which must be visited
  // even while a runnext pair keeps one time slice going.
  uint32_t runs = 0;

  // Owner: sysmon. Its last view of the counters above and when it changed.
  uint32_t sysmon_schedtick = 0;
  int64_t sysmon_schedwhen = 0;
  uint32_t sysmon_syscalltick = 0;
  int64_t sysmon_syscallwhen = 0;

  // Atomic: the trace generation in which this P's status was last written (as G's).
  std::atomic<uint64_t> trace_gen{0};
};

}  // namespace goro

#endif  // GORO_RUNTIME_P_H_

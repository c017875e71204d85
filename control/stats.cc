// Statistics for the "stats" request. Nothing here walks the goroutines: every figure is a
// counter or a per-P/per-M value, so the answer costs the same with 10 or 100,000 of them.

#include "control/stats.h"

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/mutex.h"
#include "gc/gc.h"
#include "runtime/note.h"
#include "runtime/p.h"
#include "runtime/sched.h"

namespace goro::control {
namespace {

using nlohmann::json;

// Like schedtrace (runtime/schedtrace.cc): values their owners change without the locks
// taken here are read with relaxed loads, so a snapshot may mix nearby moments.
json SchedulerStats() {
  runtime_internal::Sched* s = runtime_internal::sched();
  if (s == nullptr) return nullptr;
  json out;
  out["procs"] = s->nprocs;
  out["idle_procs"] = s->npidle.load(std::memory_order_relaxed);
  out["spinning_threads"] = s->nmspinning.load(std::memory_order_relaxed);
  {
    base_internal::OsMutexLock lock(&s->allm_mu);
    out["threads"] = s->allm.size();
  }
  {
    base_internal::OsMutexLock lock(&s->mu);
    out["idle_threads"] = s->nmidle;
  }
  out["global_runqueue"] = s->runq_size.load(std::memory_order_relaxed);
  json local = json::array();
  for (const auto& p : s->allp) local.push_back(p->runq.Size());
  out["local_runqueues"] = std::move(local);
  out["live_goroutines"] = s->live_goroutines.load(std::memory_order_relaxed);
  out["goroutines_created"] = s->next_goid.load(std::memory_order_relaxed) - 1;
  out["gcwaiting"] = s->gcwaiting.load(std::memory_order_relaxed);
  out["uptime_ms"] = (runtime_internal::NanoTime() - s->start_ns) / 1000000;
  return out;
}

json GcStats() {
  json out;
  out["cycles"] = gc::CyclesCompleted();
  out["deferred_shrinks_done"] = gc::DeferredShrinksDone();
  absl::StatusOr<uint64_t> committed = gc::CommittedStackBytes();
  out["committed_stack_bytes"] = committed.ok() ? json(*committed) : json(nullptr);
  absl::StatusOr<gc::CycleStats> last = gc::LastCycle();
  if (!last.ok()) {
    out["last_cycle"] = nullptr;
    return out;
  }
  const gc::CycleStats& c = *last;
  out["last_cycle"] = {
      {"cycle", c.cycle},
      {"trigger", gc::TriggerName(c.trigger)},
      {"since_start_ms", absl::ToDoubleMilliseconds(c.since_start)},
      {"pause_begin_us", absl::ToDoubleMicroseconds(c.pause_begin)},
      {"concurrent_us", absl::ToDoubleMicroseconds(c.concurrent)},
      {"pause_end_us", absl::ToDoubleMicroseconds(c.pause_end)},
      {"gc_cpu_fraction", c.gc_cpu_fraction},
      {"goroutines_scanned", c.goroutines_scanned},
      {"committed_before", c.committed_before},
      {"committed_after", c.committed_after},
      {"shrinks", c.shrinks},
      {"released_bytes", c.released_bytes},
      {"shrinks_deferred", c.shrinks_deferred},
  };
  return out;
}

json ControlStats() {
  const ControlCounters& c = Counters();
  return {
      {"connections", c.connections.load(std::memory_order_relaxed)},
      {"refused_peers", c.refused_peers.load(std::memory_order_relaxed)},
      {"refused_busy", c.refused_busy.load(std::memory_order_relaxed)},
      {"bad_frames", c.bad_frames.load(std::memory_order_relaxed)},
      {"bad_requests", c.bad_requests.load(std::memory_order_relaxed)},
      {"requests", c.requests.load(std::memory_order_relaxed)},
      {"timeouts", c.timeouts.load(std::memory_order_relaxed)},
  };
}

}  // namespace

ControlCounters& Counters() {
  static ControlCounters* const counters = new ControlCounters;
  return *counters;
}

json CollectStats() {
  return {{"scheduler", SchedulerStats()}, {"gc", GcStats()}, {"control", ControlStats()}};
}

}  // namespace goro::control

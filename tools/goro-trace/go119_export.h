// goro::trace::Go119Exporter: converts a goro trace, one generation at a time, into Go 1.19's
// execution-trace format so that Go 1.19's `go tool trace` and `go tool pprof` read it. The
// mapping and what the 1.19 format cannot say are in docs/trace-format.md ("Export to Go
// 1.19's format").

#ifndef GORO_TOOLS_GORO_TRACE_GO119_EXPORT_H_
#define GORO_TOOLS_GORO_TRACE_GO119_EXPORT_H_

#include <cstdint>
#include <ostream>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "tools/goro-trace/go119_writer.h"
#include "tracer/reader/goroutine_name.h"
#include "tracer/reader/reader.h"

namespace goro::trace {

// goro::trace::Go119Exporter streams a goro trace into a Go119Writer. goro records what each
// M (thread) does; Go 1.19 records what each P does, and takes an event's goroutine from the
// last GoStart of its P. So the exporter follows which P each M holds (ProcStart, ProcStop,
// ProcSteal, ProcStatus) and writes an M's events into the batch of that P; a goroutine
// running on an M whose P the trace has not named runs on a stand-in P numbered after the
// highest real one. Goroutines first seen through a status event are created at that moment
// (GoCreate, plus GoWaiting or GoInSyscall, or GoStart). State carries over from one
// generation to the next; each generation's status events only fill in what was missing.
//
// Whatever the input, the output keeps Go's invariants: the Go119Writer refuses an event
// that would break one, and the exporter counts it.
//
// Thread safety: not thread-safe.
class Go119Exporter {
 public:
  // Go119Exporter::Go119Exporter writes the header to `out`, which must outlive the exporter.
  explicit Go119Exporter(std::ostream& out);

  // Go119Exporter::AddGeneration converts `gen`'s events (in the reader's merged order).
  void AddGeneration(const Generation& gen);

  // Go119Exporter::Finish ends running goroutines and open pauses at the last event's time
  // and flushes the output. Calling it twice has no further effect.
  void Finish();

  // What was converted and what the 1.19 format could not hold.
  struct Counts {
    uint64_t events_in = 0;         // goro events read
    uint64_t events_out = 0;        // Go 1.19 events written
    uint64_t stack_shrinks = 0;     // StackShrink events (no 1.19 equivalent)
    uint64_t stw_other_kinds = 0;   // STW pauses not for GC, written as "sweep termination"
    uint64_t stw_overlapping = 0;   // STW pauses that overlap another (1.19: one at a time)
    uint64_t unmatched_ends = 0;    // GC and STW ends whose begin is not in the output
    uint64_t refused = 0;           // events the writer refused (Go119Writer::refused)
    uint64_t clamped = 0;           // times moved to keep the output strictly in order
    uint64_t stand_in_ps = 0;       // goroutine runs placed on a stand-in P
  };
  // Go119Exporter::counts is valid after Finish.
  const Counts& counts() const { return counts_; }

  // Go119Exporter::Note is the one-line note goro-trace prints after an export: what the
  // format dropped, with the counts.
  std::string Note() const;

 private:
  struct MInfo {
    bool has_p = false;
    int64_t p = 0;
    bool stand_in = false;  // p is a stand-in P of this exporter's
    uint64_t g = 0;         // the goroutine it runs (or whose blocking call it carries)
  };

  uint64_t OutStack(const Generation& gen, uint64_t id);
  // A user annotation's stack from its first frame outside the tracer's annotation API, so
  // that regions, tasks and logs are told apart by their call sites.
  uint64_t UserStack(const Generation& gen, uint64_t id);
  // The start stack of a goroutine created by GoCreate: its start PC, named after where the
  // goroutine came from (GoroutineNamer), since every goro::Go start function looks alike.
  uint64_t NamedStartStack(const Generation& gen, uint64_t creation, uint64_t start);
  // The start function of a goroutine from a goro start stack or a GoStatusStack stack
  // (its outermost frame).
  uint64_t StartStack(const Generation& gen, uint64_t id);
  // The P the M's goroutine runs on: the M's own, or a stand-in.
  int64_t PForRun(uint64_t m);
  // Gives back a stand-in P once the M no longer runs a goroutine on it.
  void ReleaseStandIn(uint64_t t, uint64_t m);
  // Runs g on m's P in the output, first making it Runnable there if it is not.
  void StartOn(uint64_t t, uint64_t m, uint64_t g);
  // Ends the run of m's goroutine with `type` (a Go 1.19 stop event) and `stack`.
  void StopOn(uint64_t t, uint64_t m, uint8_t type, uint64_t stack);
  void Status(const Generation& gen, const Event& ev);

  Go119Writer w_;
  Counts counts_;
  bool finished_ = false;
  uint64_t last_time_ = 0;
  absl::flat_hash_map<uint64_t, MInfo> ms_;
  absl::flat_hash_map<uint64_t, uint64_t> gen_stacks_;  // this generation's stack id -> file's
  absl::flat_hash_map<uint64_t, uint64_t> gen_user_stacks_;  // the same, for UserStack
  GoroutineNamer namer_;
  int64_t max_real_p_ = -1;
  absl::flat_hash_set<int64_t> stand_ins_;  // stand-in Ps in use
  uint64_t stw_m_ = 0;                      // the M whose STW pause is open
};

}  // namespace goro::trace

#endif  // GORO_TOOLS_GORO_TRACE_GO119_EXPORT_H_

// goro-trace pprof: pprof profiles straight from a goro trace, without Go's tools. The
// same four views as `go tool trace -pprof=`: where goroutines waited to run (sched), waited
// on channels, select, Mutex and Cond (sync), waited on anything at all (block), and sat in
// blocking calls (syscall), each sample a stack with a count and a total delay.

#ifndef GORO_TOOLS_GORO_TRACE_PPROF_EXPORT_H_
#define GORO_TOOLS_GORO_TRACE_PPROF_EXPORT_H_

#include <cstdint>
#include <ostream>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tracer/format.h"
#include "tracer/reader/analysis.h"
#include "tracer/reader/reader.h"

namespace goro::trace {

// goro::trace::PprofKind selects the view.
enum class PprofKind : uint8_t {
  kSched,    // GoCreate/GoUnblock -> GoStart, at the creator's or unblocker's stack
  kSync,     // GoBlock for chan send/recv, select, Mutex/WaitGroup, Cond -> unblock
  kBlock,    // every GoBlock -> unblock (sync, plus sleep, GC, preempted, unspecified)
  kSyscall,  // GoSyscallBegin -> GoSyscallEnd(Blocked)
};

// goro::trace::ParsePprofKind maps "sched", "sync", "block", "syscall" to a kind;
// InvalidArgument names the accepted values otherwise.
absl::StatusOr<PprofKind> ParsePprofKind(absl::string_view name);

// goro::trace::PprofStats says what went into a profile.
struct PprofStats {
  uint64_t samples = 0;    // distinct stacks
  uint64_t intervals = 0;  // intervals summed into them
  uint64_t total_ns = 0;
};

// goro::trace::PprofBuilder builds the profile of one kind from a trace fed one generation
// at a time (streaming: only the distinct stacks and their sums are kept), then writes it
// as gzip-compressed profile.proto, with sample types contentions/count and
// delay/nanoseconds (delay the default), as Go's trace tool does. Functions carry the
// trace's function names, files and lines; each distinct PC is one location.
// Thread safety: not thread-safe.
class PprofBuilder : private IntervalSink {
 public:
  explicit PprofBuilder(PprofKind kind);

  // PprofBuilder::AddGeneration adds `gen`'s intervals (generations in file order).
  void AddGeneration(const Generation& gen) { analysis_.AddGeneration(gen); }

  // PprofBuilder::Write finishes the profile and writes it to `out`. Errors: Internal if
  // compression fails, DataLoss if `out` fails. Call once, after the last generation.
  absl::Status Write(std::ostream& out);

  const PprofStats& stats() const { return stats_; }

 private:
  uint64_t InternStack(const std::vector<Frame>& frames) override;
  void Interval(IntervalKind kind, BlockReason reason, uint64_t g, uint64_t stack_key,
                uint64_t begin, uint64_t end) override;

  struct Sum {
    uint64_t count = 0;
    uint64_t ns = 0;
  };

  PprofKind kind_;
  Analysis analysis_;
  // Stacks by their PCs; stacks_[key - 1] holds the frames of key.
  absl::flat_hash_map<std::vector<uint64_t>, uint64_t> stack_keys_;
  std::vector<std::vector<Frame>> stacks_;
  absl::flat_hash_map<uint64_t, Sum> sums_;  // by stack key
  PprofStats stats_;
};

}  // namespace goro::trace

#endif  // GORO_TOOLS_GORO_TRACE_PPROF_EXPORT_H_

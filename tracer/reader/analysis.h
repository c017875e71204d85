// goro::trace::Analysis: statistics over a whole trace, fed one generation at a time —
// time each goroutine spent in each state, scheduler latency, STW and GC pauses, event
// counts, and what goroutine tools show (creation stack, functions seen).

#ifndef GORO_TRACER_READER_ANALYSIS_H_
#define GORO_TRACER_READER_ANALYSIS_H_

#include <array>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "tracer/format.h"
#include "tracer/reader/goroutine_name.h"
#include "tracer/reader/reader.h"
#include "tracer/reader/state_machine.h"

namespace goro::trace {

// goro::trace::GoroutineSummary is what Analysis knows of one goroutine. Durations are in
// nanoseconds; a state's time runs from the event that entered it to the event that left
// it (or, for a goroutine still in it, to the last event of the trace).
struct GoroutineSummary {
  uint64_t id = 0;
  uint64_t first_time = 0;  // time of its first event
  uint64_t running_ns = 0;
  uint64_t runnable_ns = 0;
  uint64_t syscall_ns = 0;
  // Waiting time by BlockReason; a goroutine first seen Waiting (kEvGoStatus) counts as
  // kUnspecified until it next blocks.
  std::array<uint64_t, static_cast<size_t>(BlockReason::kCount)> blocked_ns{};
  bool created = false;              // a GoCreate for it is in the trace
  bool gone = false;                 // a GoDestroy for it is in the trace
  std::vector<Frame> creation_stack;  // the creator's stack at GoCreate
  std::vector<Frame> start_stack;     // the start function (one frame)
  // Where it came from (GoroutineNamer): "Worker.func1" for the first lambda that Worker
  // passed to goro::Go; "main" for goroutine 1 and "(created before the trace)" for other
  // goroutines whose GoCreate the trace does not hold. Set by Finish at the latest.
  std::string name;
  // Function names in every stack its events carry: its GoCreate's two stacks, its
  // GoStatusStack stack, and the stacks of events its M emitted while running it.
  std::set<std::string> functions;

  uint64_t blocked_total_ns() const;
};

// goro::trace::GoroutineGroup sums the goroutines of one name (Go's goroutine analysis
// groups them by start function).
struct GoroutineGroup {
  std::string name;
  uint64_t count = 0;
  uint64_t running_ns = 0;
  uint64_t runnable_ns = 0;
  uint64_t blocked_ns = 0;
  uint64_t syscall_ns = 0;
};

// goro::trace::IntervalKind is what a pprof-like profile of a trace measures (Go's
// `go tool trace -pprof=`): time between becoming Runnable and running (kSched), time
// Waiting (kBlock, with its BlockReason) and time in a blocking call (kSyscall).
enum class IntervalKind : uint8_t { kSched, kBlock, kSyscall };

// goro::trace::IntervalSink receives, from Analysis, every closed interval whose opening
// event carried a stack: for kSched the stack of the GoCreate or GoUnblock that made the
// goroutine Runnable, for kBlock the GoBlock's, for kSyscall the GoSyscallBegin's (Go's
// trace tool uses the same events). Intervals still open at the end of the trace are not
// reported (Go's tool skips events without a link too).
class IntervalSink {
 public:
  virtual ~IntervalSink() = default;
  // Returns a nonzero key for `frames` (innermost first; not empty), the same key for equal
  // frames, whatever generation they come from.
  virtual uint64_t InternStack(const std::vector<Frame>& frames) = 0;
  // Goroutine g spent [begin, end) in `kind` (`reason` is meaningful for kBlock), opened by
  // an event whose stack InternStack gave `stack_key`.
  virtual void Interval(IntervalKind kind, BlockReason reason, uint64_t g, uint64_t stack_key,
                        uint64_t begin, uint64_t end) = 0;
};

// goro::trace::Analysis accumulates statistics. Call AddGeneration for each generation in
// file order, then Finish once; read the results after Finish. It drives a StateMachine
// leniently (StateMachine::Apply: it follows the events, trusting the validator for
// correctness), one machine carried from one generation to the next, and times the
// transitions the machine reports.
//
// Thread safety: not thread-safe.
class Analysis : private TransitionObserver {
 public:
  Analysis() = default;
  Analysis(const Analysis&) = delete;  // the machine reports to this object
  Analysis& operator=(const Analysis&) = delete;

  // Analysis::AddGeneration adds `gen`'s events.
  void AddGeneration(const Generation& gen);

  // Analysis::set_interval_sink makes the analysis report closed intervals to `sink`
  // (null: none, the default), which must outlive the analysis. Set before the first
  // AddGeneration.
  void set_interval_sink(IntervalSink* sink) { sink_ = sink; }

  // Analysis::Finish closes every open state interval at the time of the last event seen
  // (an STW or GC pause still open is not counted). Calling it twice has no further effect.
  void Finish();

  // Goroutines by id.
  const std::map<uint64_t, GoroutineSummary>& goroutines() const { return goroutines_; }
  // Goroutines grouped by name, the groups sorted by total running time (most first), then
  // by name.
  const std::vector<GoroutineGroup>& groups() const { return groups_; }
  // Scheduler latency samples (ns), in trace order: from becoming Runnable by GoCreate,
  // GoUnblock, GoStop or GoSyscallEndBlocked to the goroutine's next GoStart.
  const std::vector<uint64_t>& sched_latencies() const { return latencies_; }
  // STWBegin..STWEnd pauses (ns) of the same M, and GCBegin..GCEnd cycles (ns).
  const std::vector<uint64_t>& stw_pauses() const { return stw_pauses_; }
  const std::vector<uint64_t>& gc_pauses() const { return gc_pauses_; }
  // Events of each type (String, Stack and EndOfGeneration are not events and stay 0).
  uint64_t event_count(uint8_t type) const { return type < kEvCount ? counts_[type] : 0; }
  uint64_t total_events() const;
  uint64_t generations() const { return generations_; }
  // Times of the first and last events seen (0 before any).
  uint64_t first_time() const { return first_time_; }
  uint64_t last_time() const { return last_time_; }

  // Analysis::Percentile returns the q-quantile (0 <= q <= 1) of `samples` by the
  // nearest-rank method (the smallest sample with at least q of all at or below it), or 0
  // for no samples.
  static uint64_t Percentile(std::vector<uint64_t> samples, double q);

 private:
  // The interval being timed for one goroutine: the state the machine last moved it to.
  struct Tracked {
    GState state;
    uint64_t since;
    BlockReason reason = BlockReason::kUnspecified;
    bool latency_open = false;  // became Runnable by an event that starts a latency sample
    uint64_t runnable_since = 0;
    // With an IntervalSink: the stack key of the event that opened the current Waiting or
    // Syscall interval, and of the one that opened the latency sample (0: no stack).
    uint64_t state_key = 0;
    uint64_t latency_key = 0;
  };

  GoroutineSummary& Summary(uint64_t g, uint64_t t);
  // Moves g to `state` at t, crediting its previous state's time (and reporting it to the
  // sink); `key` is the stack key of the event that opened the new state.
  void Enter(uint64_t g, GState state, uint64_t t,
             BlockReason reason = BlockReason::kUnspecified, uint64_t key = 0);
  // TransitionObserver: the statistics of one event the machine applied.
  void OnTransition(const Transition& tr) override;
  // The sink's key for stack `id` of `gen`, or 0 (no sink, no such stack, empty stack).
  uint64_t StackKey(const Generation& gen, uint64_t id);
  void AddFunctions(uint64_t g, const Generation& gen, uint64_t stack);

  std::map<uint64_t, GoroutineSummary> goroutines_;
  std::vector<GoroutineGroup> groups_;
  GoroutineNamer namer_;
  // The G, P and M state, carried across generations; gen_ is the generation being added.
  StateMachine machine_{nullptr, /*check_ids=*/false};
  const Generation* gen_ = nullptr;
  absl::flat_hash_map<uint64_t, Tracked> tracked_;
  absl::flat_hash_map<uint64_t, uint64_t> stw_begin_;    // M -> STWBegin time
  bool gc_open_ = false;
  uint64_t gc_begin_ = 0;
  uint64_t gc_seq_ = 0;
  std::vector<uint64_t> latencies_;
  std::vector<uint64_t> stw_pauses_;
  std::vector<uint64_t> gc_pauses_;
  std::array<uint64_t, kEvCount> counts_{};
  uint64_t generations_ = 0;
  bool any_ = false;
  uint64_t first_time_ = 0;
  uint64_t last_time_ = 0;
  bool finished_ = false;
  IntervalSink* sink_ = nullptr;
};

// goro::trace::FormatDuration renders nanoseconds for people: "850ns", "12.5us", "3.25ms",
// "1.500s".
std::string FormatDuration(uint64_t ns);

}  // namespace goro::trace

#endif  // GORO_TRACER_READER_ANALYSIS_H_

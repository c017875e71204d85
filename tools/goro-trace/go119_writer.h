// goro::trace::Go119Writer: writes an execution trace in Go 1.19's format ("go 1.19 trace",
// internal/trace/parser.go) that Go 1.19's `go tool trace` accepts. It keeps its own copy of
// the Go parser's goroutine and proc state machine and refuses (and counts) any event that
// would break an invariant of the parser or of cmd/trace, so whatever its caller feeds it,
// the file it writes parses and opens.

#ifndef GORO_TOOLS_GORO_TRACE_GO119_WRITER_H_
#define GORO_TOOLS_GORO_TRACE_GO119_WRITER_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "tracer/reader/reader.h"

namespace goro::trace {

// Go 1.19's event types (internal/trace/parser.go; the runtime's traceEv* constants). Only
// the ones goro's exporter writes.
enum Go119EventType : uint8_t {
  kGo119Batch = 1,
  kGo119Frequency = 2,
  kGo119Stack = 3,
  kGo119ProcStart = 5,
  kGo119ProcStop = 6,
  kGo119GCStart = 7,
  kGo119GCDone = 8,
  kGo119STWStart = 9,
  kGo119STWDone = 10,
  kGo119GoCreate = 13,
  kGo119GoStart = 14,
  kGo119GoEnd = 15,
  kGo119GoSched = 17,
  kGo119GoPreempt = 18,
  kGo119GoSleep = 19,
  kGo119GoBlock = 20,
  kGo119GoUnblock = 21,
  kGo119GoBlockSend = 22,
  kGo119GoBlockRecv = 23,
  kGo119GoBlockSelect = 24,
  kGo119GoBlockSync = 25,
  kGo119GoBlockCond = 26,
  kGo119GoSysCall = 28,
  kGo119GoSysExit = 29,
  kGo119GoSysBlock = 30,
  kGo119GoWaiting = 31,
  kGo119GoInSyscall = 32,
  kGo119String = 37,
  kGo119GoBlockGC = 42,
  kGo119UserTaskCreate = 45,
  kGo119UserTaskEnd = 46,
  kGo119UserRegion = 47,
  kGo119UserLog = 48,
};

// Go's traceGlobProc: the batch of events written by a thread without a P.
inline constexpr int64_t kGo119NoP = -1;

// goro::trace::Go119Writer writes one Go 1.19 trace to a stream. Time is in nanoseconds
// (the file says 1e9 ticks per second); every event gets a time strictly after the previous
// one (a time at or before it is moved to just after it, counted in clamped()), so Go's
// merge of the per-P batches (order1007) reproduces the order of the calls exactly.
//
// The writer mirrors Go's parser (postProcessTrace and order1007): a goroutine is created
// once, then Runnable, Running on one P, or Waiting (blocked, or in a blocking call that lost
// its P: "in syscall"); a P runs at most one goroutine; one GC and one STW pause at a time;
// user regions nest per goroutine. Every event method returns true when it wrote the event
// and false when the event would have broken that model (the event is then dropped and
// counted in refused()). Events of a goroutine are written into the batch of the P it runs
// on, as Go's parser takes an event's goroutine from the last GoStart of its P.
//
// Stacks and strings are deduplicated by content over the whole file and written just
// before the first event that names them. A stack's PC keeps the function, file and line it
// had the first time it was seen (Go's pprof builder keys locations by PC).
//
// Thread safety: not thread-safe.
class Go119Writer {
 public:
  // Go119Writer::Go119Writer writes the header and the frequency event to `out`, which must
  // outlive the writer.
  explicit Go119Writer(std::ostream& out);
  Go119Writer(const Go119Writer&) = delete;
  Go119Writer& operator=(const Go119Writer&) = delete;

  // Go119Writer::Stack returns the file's id for `frames` (innermost first), writing it when
  // new; 0 for no frames. At most 1000 frames are kept (Go's limit).
  uint64_t Stack(const std::vector<Frame>& frames);
  // Go119Writer::String returns the file's id for `s`, writing it when new; 0 for "".
  uint64_t String(absl::string_view s);
  // Go119Writer::SyntheticStack returns a one-frame stack naming `func`, with a small fake PC
  // of its own, for goroutines whose start function the trace does not record.
  uint64_t SyntheticStack(absl::string_view func);

  // --- What the writer's model says ---
  // kDead: ended (GoEnd); its id stays taken, as Go's parser never forgets a goroutine.
  enum class GState : uint8_t { kUnknown, kRunnable, kRunning, kWaiting, kInSyscall, kDead };
  // Go119Writer::StateOf is g's state in the file written so far.
  GState StateOf(uint64_t g) const;
  // Go119Writer::POf is the P whose batch g runs in (valid when g is Running).
  int64_t POf(uint64_t g) const;
  // Go119Writer::ProcRunning says whether ProcStart of p is in effect.
  bool ProcRunning(int64_t p) const;
  // Go119Writer::GoroutineOn is the goroutine running on p, or 0.
  uint64_t GoroutineOn(int64_t p) const;

  // --- Procs ---
  // ProcStart of a stopped p by `thread`; ProcStop of a running p that runs no goroutine.
  bool ProcStart(uint64_t t, int64_t p, uint64_t thread);
  bool ProcStop(uint64_t t, int64_t p);

  // --- Goroutines ---
  // Go119Writer::GoCreate creates g (which must be new) with `start_stack` (a stack id from
  // Stack; empty is replaced by a synthetic frame, since cmd/trace needs a start function)
  // from `creator` (0: none; otherwise it must be Running) with the creator's `stack`.
  bool GoCreate(uint64_t t, uint64_t creator, uint64_t g, uint64_t start_stack, uint64_t stack);
  // GoWaiting / GoInSyscall: a goroutine just created is blocked / in a blocking call since
  // before the trace.
  bool GoWaiting(uint64_t t, uint64_t g);
  bool GoInSyscall(uint64_t t, uint64_t g);
  // Go119Writer::GoStart runs Runnable g on p, which must run no goroutine. A stopped p is
  // started first (thread 0).
  bool GoStart(uint64_t t, int64_t p, uint64_t g);
  // Go119Writer::GoStop ends g's run: `type` is kGo119GoEnd, GoSched, GoPreempt, GoSleep,
  // GoBlock*, or GoSysBlock (g then counts as in a blocking call). g must be Running.
  bool GoStop(uint64_t t, uint64_t g, uint8_t type, uint64_t stack);
  // Go119Writer::GoUnblock makes Waiting g Runnable; `by` is the Running goroutine that does
  // it (0: none).
  bool GoUnblock(uint64_t t, uint64_t by, uint64_t g, uint64_t stack);
  // Go119Writer::GoSysCall: Running g enters a blocking call (it stays Running).
  bool GoSysCall(uint64_t t, uint64_t g, uint64_t stack);
  // Go119Writer::GoSysExit: g, in a blocking call without its P, returns and is Runnable.
  bool GoSysExit(uint64_t t, uint64_t g);

  // --- Collector and pauses ---
  // GCStart numbers cycles 0, 1, 2, ... itself; STW kind 0 is Go's "mark termination", 1
  // "sweep termination" (the only two Go 1.19 knows).
  bool GCStart(uint64_t t, uint64_t stack);
  bool GCDone(uint64_t t);
  bool STWStart(uint64_t t, uint64_t kind);
  bool STWDone(uint64_t t);
  bool GCOpen() const { return gc_open_; }
  bool STWOpen() const { return stw_open_; }

  // --- User annotations (g must be Running; task ids are unique; region ends match) ---
  bool UserTaskCreate(uint64_t t, uint64_t g, uint64_t id, uint64_t parent,
                      absl::string_view name, uint64_t stack);
  bool UserTaskEnd(uint64_t t, uint64_t g, uint64_t id, uint64_t stack);
  // mode 0 begins a region, 1 ends the innermost one, which must have the same task and
  // name. A region's stack must not be empty (cmd/trace's /userregions reads its first
  // frame); an empty one is replaced by a synthetic frame.
  bool UserRegion(uint64_t t, uint64_t g, uint64_t task, int mode, absl::string_view name,
                  uint64_t stack);
  bool UserLog(uint64_t t, uint64_t g, uint64_t task, absl::string_view key,
               absl::string_view message, uint64_t stack);

  // Go119Writer::Finish ends what Go's tools need ended: every Running goroutine is
  // preempted, an open GC or STW is closed; then flushes the stream. Calling it twice has
  // no further effect.
  void Finish(uint64_t t);

  // Counters for the exporter's summary.
  uint64_t events() const { return events_; }
  uint64_t refused() const { return refused_; }
  uint64_t clamped() const { return clamped_; }
  uint64_t last_time() const { return last_time_; }

 private:
  struct GInfo {
    GState state = GState::kUnknown;
    uint64_t seq = 0;  // order1007's sequence number of the goroutine
    int64_t p = 0;     // valid when Running
    // Open regions, innermost last: {task, name string id}.
    std::vector<std::pair<uint64_t, uint64_t>> regions;
  };
  struct PInfo {
    bool running = false;
    uint64_t g = 0;
  };

  // Writes one event of `type` at time t in p's batch with `args` (after the time).
  void Event(int64_t p, uint8_t type, uint64_t t, std::initializer_list<uint64_t> args);
  // Starts a batch for p when the previous event went into another P's batch.
  void SwitchTo(int64_t p);
  void PutUvarint(std::string* out, uint64_t v);
  // The time to write for an event at t: strictly after the previous one.
  uint64_t Clamp(uint64_t t);
  int64_t StreamOf(uint64_t by) const;
  GInfo* Find(uint64_t g);
  bool Refuse();
  void FlushIfLarge();

  std::ostream& out_;
  std::string buf_;
  bool finished_ = false;
  bool have_stream_ = false;
  int64_t stream_ = 0;
  bool any_event_ = false;
  uint64_t last_time_ = 0;

  absl::flat_hash_map<std::string, uint64_t> strings_;
  absl::flat_hash_map<std::string, uint64_t> stacks_;
  // PC -> {func, file, line} of its first frame: a PC always carries the same location.
  struct Loc {
    uint64_t func, file, line;
  };
  absl::flat_hash_map<uint64_t, Loc> pcs_;
  uint64_t next_string_ = 1;
  uint64_t next_stack_ = 1;
  // Synthetic function name -> its fake PC.
  absl::flat_hash_map<std::string, uint64_t> synthetic_pcs_;
  uint64_t next_fake_pc_ = 1;

  absl::flat_hash_map<uint64_t, GInfo> gs_;
  absl::flat_hash_map<int64_t, PInfo> ps_;
  absl::flat_hash_set<uint64_t> tasks_;  // task ids created
  bool gc_open_ = false;
  uint64_t gc_seq_ = 0;
  bool stw_open_ = false;

  uint64_t events_ = 0;
  uint64_t refused_ = 0;
  uint64_t clamped_ = 0;
};

}  // namespace goro::trace

#endif  // GORO_TOOLS_GORO_TRACE_GO119_WRITER_H_

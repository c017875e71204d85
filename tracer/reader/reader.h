// goro::trace::Reader: a streaming reader for trace files (format v1, tracer/format.h). It
// reads one generation at a time, decodes its string and stack tables and its events, and
// returns the events in one merged sequence, ordered by time where the goroutines' and
// procs' state machines allow (docs/trace-format.md).

#ifndef GORO_TRACER_READER_READER_H_
#define GORO_TRACER_READER_READER_H_

#include <cstddef>
#include <cstdint>
#include <istream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tracer/format.h"

namespace goro::trace {

// goro::trace::Frame is one frame of a stack table entry, with its strings resolved.
struct Frame {
  uint64_t pc = 0;
  std::string func;
  std::string file;
  uint64_t line = 0;
};

// goro::trace::Event is one decoded event. String, stack and end-of-generation events are
// not events in this sense: they fill the generation's tables.
// Laid out in 64 bytes (one cache line): a generation holds millions, and the reader
// copies each twice (into its M's sequence, then into the merged order).
struct Event {
  uint64_t time = 0;    // absolute CLOCK_MONOTONIC nanoseconds
  uint64_t m = 0;       // the M of the event's batch (0: a structural batch)
  uint64_t args[4] = {0, 0, 0, 0};
  uint64_t offset = 0;  // byte offset of the event's type byte in the file
  uint8_t type = kEvNone;  // an EventType
  uint8_t nargs = 0;       // how many of args are meaningful (EventArgCount(type))
};
static_assert(sizeof(Event) == 64);

// goro::trace::FatalRecord is a trace's crash record (kEvFatal): the process died of a
// goro fatal error (signal 0) or of `signal` while tracing; `message` is what it printed.
struct FatalRecord {
  bool present = false;
  uint64_t g = 0;       // the goroutine that was running (0: none)
  uint64_t m = 0;       // the trace M id of the crashing thread (0: none)
  uint64_t signal = 0;  // the signal number, 0 for a goro fatal error
  std::string message;
  uint64_t time = 0;
  uint64_t offset = 0;  // of the kEvFatal event
};

// goro::trace::Generation is everything one generation of a trace holds.
struct Generation {
  uint64_t gen = 0;
  // String table: id -> string. Id 0 (the empty string) is always present.
  absl::flat_hash_map<uint64_t, std::string> strings;
  // Stack table: id -> frames, innermost first. Id 0 (the empty stack) is always present.
  absl::flat_hash_map<uint64_t, std::vector<Frame>> stacks;
  // The generation's events in merged order (see Reader::NextGeneration).
  std::vector<Event> events;
  // How many times the merge took an M's event ahead of another M's earlier-stamped one
  // because the earlier one was not possible yet, and the largest such difference in time.
  // Nonzero values are expected at the scale of nanoseconds (see docs/trace-format.md, the
  // clock); a large one means an event was written out of order.
  uint64_t reorders = 0;
  uint64_t max_reorder_ns = 0;
  // The crash record, when this generation is the last one of a process that died while
  // tracing (docs/trace-format.md, "Crash records"). Not among `events`.
  FatalRecord fatal;

  // Generation::String returns the string with `id`, or "" when the id is unknown.
  absl::string_view String(uint64_t id) const;
  // Generation::Stack returns the stack with `id`, or nullptr when the id is unknown.
  const std::vector<Frame>* Stack(uint64_t id) const;
};

// goro::trace::Reader reads a trace file one generation at a time. Memory use is bounded
// by the largest generation, never by the file: each batch is read on its own (at most
// kMaxBatchPayload bytes) and every length field is checked against the bytes that remain.
//
// Errors are absl::Status values (InvalidArgument for corrupt input, DataLoss for a file
// that ends early, Unimplemented for an unknown version) whose message starts with
// "offset N: " where N is the byte offset in the file of the offending field or event.
// After an error the reader is done: further calls return the same error.
//
// Thread safety: a Reader is not thread-safe; use one from one thread at a time.
class Reader {
 public:
  // Reader::Reader reads from `in`, which must outlive the reader. The header is checked
  // by the first NextGeneration call.
  explicit Reader(std::istream& in);

  // Reader::FromBytes returns a reader over a copy of `bytes`.
  static std::unique_ptr<Reader> FromBytes(absl::string_view bytes);

  // Reader::Open returns a reader over the file at `path`, or NotFound / PermissionDenied
  // (from errno) when it cannot be opened.
  static absl::StatusOr<std::unique_ptr<Reader>> Open(const std::string& path);

  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;
  ~Reader();

  // Reader::NextGeneration reads the next whole generation into *out (replacing its
  // contents) and returns true, or returns false at the end of a well-formed file. Reads
  // every batch up to and including the one whose last event is kEvEndOfGeneration.
  //
  // Events are merged across Ms: each M's batches form one sequence in file order, never
  // reordered. The merge repeatedly takes the earliest head (the lowest m among equal
  // times) when the validator's state machine accepts its transition in the current state;
  // otherwise the earliest of the other heads that it accepts (counted in
  // Generation::reorders), because the clock reads of different Ms are not ordered with
  // the status changes around them (docs/trace-format.md, "The clock"); and when no head
  // is possible, the earliest, for the validator to report. Status events from structural
  // (m == 0) batches come first, in file order, whatever their time.
  //
  // Errors: see the class comment. Stack frames whose strings are not in the table, ids
  // defined twice in one generation, lengths over the format's limits, generation numbers
  // that do not increase by one and a file ending inside a generation are all errors.
  absl::StatusOr<bool> NextGeneration(Generation* out);

  // Reader::offset is the number of bytes consumed so far.
  uint64_t offset() const { return offset_; }

  // Reader::complete_offset is the byte offset just past the last generation that
  // NextGeneration returned whole (the header's end before the first): where a truncated
  // or damaged file was cut, as far as the complete generations go. After an error,
  // everything from here on was not salvaged (docs/trace-format.md, "Salvage").
  uint64_t complete_offset() const { return complete_offset_; }

  // Reader::complete_generations counts the generations NextGeneration returned whole.
  uint64_t complete_generations() const { return complete_generations_; }

 private:
  explicit Reader(std::unique_ptr<std::istream> owned);

  absl::Status ReadHeader();
  // Reads the next batch into batch_* fields. Returns false at a clean end of file.
  absl::StatusOr<bool> ReadBatch();
  // Reads `n` bytes into `dst`, returning how many were available.
  size_t ReadBytes(uint8_t* dst, size_t n);
  absl::Status ReadStreamUvarint(uint64_t* v, const char* what);
  absl::Status Fail(absl::Status status);

  // Constant after construction.
  std::unique_ptr<std::istream> owned_;
  std::istream* in_;

  uint64_t offset_ = 0;
  uint64_t complete_offset_ = 0;
  uint64_t complete_generations_ = 0;
  bool header_done_ = false;
  bool have_prev_gen_ = false;
  uint64_t prev_gen_ = 0;
  absl::Status error_;  // sticky

  // The current batch.
  uint64_t batch_offset_ = 0;          // offset of its kEvBatch byte
  uint64_t batch_payload_offset_ = 0;  // offset of its first payload byte
  uint64_t batch_gen_ = 0;
  uint64_t batch_m_ = 0;
  uint64_t batch_base_time_ = 0;
  std::vector<uint8_t> payload_;

  // NextGeneration's per-generation sequences, members only so that their memory is reused
  // from one generation to the next (growing fresh vectors for millions of events was a
  // third of `goro-trace validate`). Emptied at the start of each generation.
  // The events of the Ms' batches are read into raw_ in file order, each batch one run;
  // per_m_ maps each M of the generation (in m order, for the merge) to its list of runs in
  // run_pool_ (lists handed out in order of first appearance: M ids change from one
  // generation to the next). One vector for all Ms keeps the memory reused and the peak at
  // about twice the largest generation (raw_ and the merged Generation::events).
  struct Run {
    size_t begin;  // index in raw_ of the run's first event
    size_t end;    // one past its last
  };
  std::vector<Event> front_;  // status events of m == 0 batches
  std::vector<Event> raw_;
  std::vector<std::vector<Run>> run_pool_;
  std::map<uint64_t, size_t> per_m_;
};

}  // namespace goro::trace

#endif  // GORO_TRACER_READER_READER_H_

// goro::trace::ChromeExporter: writes a trace as Chrome trace event JSON
// ({"traceEvents": [...]}), which chrome://tracing and ui.perfetto.dev open.

#ifndef GORO_TOOLS_GORO_TRACE_CHROME_EXPORT_H_
#define GORO_TOOLS_GORO_TRACE_CHROME_EXPORT_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "tracer/reader/reader.h"

namespace goro::trace {

// goro::trace::JsonQuote returns `s` as a JSON string literal (with the quotes). Bytes
// outside printable ASCII are written as \u00XX escapes, so the result is ASCII and valid
// JSON whatever `s` holds.
std::string JsonQuote(absl::string_view s);

// goro::trace::ChromeExporter streams Chrome trace events to `out`, one generation at a
// time. Layout: one process; one track per M (tid = m, named "M <m>") carrying an "X"
// slice per goroutine running interval (name "g17", the stack of the event that ended it
// in args) and nested "syscall" slices; instant events for goroutine create, block and
// unblock (stacks in args); flow arrows ("s"/"f") from each GoUnblock to the GoStart it
// enables; GC cycles and STW pauses as slices on two tracks of their own (tid kGcTid and
// kStwTid). Timestamps are microseconds from the first event.
//
// Thread safety: not thread-safe.
class ChromeExporter {
 public:
  static constexpr int64_t kGcTid = 1000000;
  static constexpr int64_t kStwTid = 1000001;

  // ChromeExporter::ChromeExporter writes the opening of the JSON document to `out`,
  // which must outlive the exporter.
  explicit ChromeExporter(std::ostream& out);

  // ChromeExporter::AddGeneration writes `gen`'s events.
  void AddGeneration(const Generation& gen);

  // ChromeExporter::Finish ends slices still open at the last event's time and closes
  // the document. Calling it twice has no further effect.
  void Finish();

 private:
  struct Running {
    uint64_t g = 0;
    uint64_t start = 0;
    bool in_syscall = false;
    uint64_t syscall_start = 0;
    std::string syscall_stack;  // JSON array
  };

  void Emit(const std::string& json_object);
  void EnsureTrack(uint64_t m);
  // Ts renders an event time, Us the duration from `from` to `to` (0 if negative), in
  // microseconds.
  std::string Ts(uint64_t t) const;
  static std::string Us(uint64_t from, uint64_t to);
  std::string StackJson(const Generation& gen, uint64_t stack) const;
  void EndRunning(uint64_t m, uint64_t t, const std::string& why, const std::string& stack);
  void EndSyscall(uint64_t m, uint64_t t);

  std::ostream& out_;
  bool first_event_ = true;
  bool have_t0_ = false;
  uint64_t t0_ = 0;
  uint64_t last_time_ = 0;
  bool finished_ = false;
  uint64_t next_flow_ = 1;
  absl::flat_hash_set<uint64_t> tracks_;
  absl::flat_hash_map<uint64_t, Running> running_;        // M -> its running slice
  absl::flat_hash_map<uint64_t, uint64_t> pending_flow_;  // g -> flow id from its unblock
  absl::flat_hash_map<uint64_t, std::pair<uint64_t, uint64_t>> stw_;  // M -> {begin, kind}
  bool gc_open_ = false;
  uint64_t gc_begin_ = 0;
  uint64_t gc_seq_ = 0;
};

}  // namespace goro::trace

#endif  // GORO_TOOLS_GORO_TRACE_CHROME_EXPORT_H_

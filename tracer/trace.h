// goro's execution tracer, public API (Go's runtime/trace): start and stop tracing to a
// file or a writer, and annotate a trace with tasks, regions and log messages.
//
//   absl::Status st = goro::trace::Start("/tmp/prog.trace");
//   ...
//   st = goro::trace::Stop();
//
// `GOROTRACE=path` in the environment traces a whole goro::Run from start to end. Read a
// trace with `goro-trace` (tools/goro-trace) or the reader library (tracer/reader/);
// docs/trace-format.md describes the file.
//
// A process that dies while tracing to a file (a goro fatal error, the ownership check, an
// uncaught exception, a stack overflow, SIGSEGV/SIGBUS/SIGFPE/SIGILL/SIGABRT) ends the
// file with its last generation and a crash record (tracer/crash.h; docs/trace-format.md,
// "Crash records"). To keep only the most recent window of trace in memory instead of a
// file, see tracer/flight_recorder.h.

#ifndef GORO_TRACER_TRACE_H_
#define GORO_TRACER_TRACE_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace goro::trace {

// goro::trace::TraceWriter receives the trace's bytes in order. It runs on the tracer's
// advance thread or in Stop's caller; an error stops further writes and is returned by
// Stop.
using TraceWriter = std::function<absl::Status(absl::string_view bytes)>;

// goro::trace::Start begins tracing the running goro::Run into a new file at `path`
// (created or truncated). Errors: FailedPrecondition when tracing is already on or no
// goro::Run is running; the open error (with the path) when the file cannot be created.
// A generation lasts GORODEBUG traceadvanceperiod (default 1s; 0 advances continuously).
// Thread safety: any thread; serialised with Stop.
absl::Status Start(const std::string& path);

// goro::trace::Start with a writer instead of a file; same errors except the open error.
// A trace written to a writer gets no crash record (the writer cannot run in a signal
// handler).
absl::Status Start(TraceWriter writer);

// goro::trace::Stop ends tracing: flushes the last generation and closes the file.
// Errors: FailedPrecondition when tracing is off or the flight recorder runs instead
// (StopFlightRecorder stops it); the first write error, if any.
// Thread safety: any thread; serialised with Start.
absl::Status Stop();

// goro::trace::IsEnabled reports whether events are being recorded (a trace, or the flight
// recorder).
bool IsEnabled();

// goro::trace::Task is a logical operation spanning goroutines (Go's trace.Task). Tasks
// nest: a task created under another names it as its parent.
class Task {
 public:
  // Starts a task named `name` under `parent` (null: a root task). Emits UserTaskBegin.
  explicit Task(absl::string_view name, const Task* parent = nullptr);
  // Ends the task (UserTaskEnd) unless End was called.
  ~Task();
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  // Ends the task now; later calls do nothing.
  void End();
  uint64_t id() const { return id_; }

 private:
  uint64_t id_;
  bool ended_ = false;
};

// goro::trace::Region marks a span of the current goroutine (Go's trace.WithRegion): emits
// UserRegionBegin on construction and UserRegionEnd on destruction. Construct and destroy
// it on the same goroutine.
class Region {
 public:
  explicit Region(absl::string_view name, const Task* task = nullptr);
  ~Region();
  Region(const Region&) = delete;
  Region& operator=(const Region&) = delete;

 private:
  std::string name_;
  uint64_t task_;
};

// goro::trace::Log writes a key/message pair into the trace, under `task` if given (Go's
// trace.Log). Does nothing while tracing is off.
void Log(absl::string_view key, absl::string_view message, const Task* task = nullptr);

}  // namespace goro::trace

#endif  // GORO_TRACER_TRACE_H_

// goro's trace flight recorder, public API (Go 1.25's runtime/trace.FlightRecorder): the
// execution tracer runs as usual, but instead of writing a file it keeps the most recent
// window of the trace in memory, bounded in bytes and in time, and writes it out on demand
// as a complete trace file.
//
//   goro::trace::FlightRecorderOptions opts;
//   opts.max_bytes = 8 << 20;
//   absl::Status st = goro::trace::StartFlightRecorder(opts);
//   ...                       // something interesting happened:
//   st = goro::trace::WriteFlightSnapshot(fd);
//
// The unit of the window is the generation (docs/trace-format.md): a snapshot holds whole
// generations only, oldest first, and ends with the generation that was in progress when it
// was asked for (the snapshot ends it early, as Go's WriteTo does). A generation lasts
// GORODEBUG traceadvanceperiod, and is cut early once it holds a quarter of max_bytes.
//
// GORODEBUG traceflight=1 runs the recorder for the whole goro::Run, with traceflightbytes,
// traceflightage and traceflightpath as its options (docs/gorodebug.md). When the process
// dies of a fatal error or signal while the recorder runs, the window and the generation
// in progress, with a crash record, are written to the crash path (tracer/crash.h).
//
// The recorder and a trace file (goro::trace::Start) are exclusive: one session at a time.

#ifndef GORO_TRACER_FLIGHT_RECORDER_H_
#define GORO_TRACER_FLIGHT_RECORDER_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace goro::trace {

// goro::trace::FlightRecorderOptions bounds the window and names the crash snapshot.
struct FlightRecorderOptions {
  // The most bytes of trace kept: the window's generations plus the one being recorded.
  // At least 1 MiB: a generation ends with every thread's last buffer (up to 64 KiB each)
  // at once, so a bound near procs x 64 KiB would drop generations. The per-thread event
  // buffers themselves (as for a trace file) are not counted.
  size_t max_bytes = size_t{16} << 20;
  // Generations that ended longer ago than this are dropped; zero: no time bound.
  absl::Duration max_age = absl::Seconds(10);
  // Where the snapshot goes when the process dies while recording; empty: the file
  // goro-flight-PID.trace in the working directory at the time of the start.
  std::string crash_path;
};

// goro::trace::FlightRecorderOptionsFromSettings returns the options the GORODEBUG settings
// traceflightbytes, traceflightage and traceflightpath describe.
FlightRecorderOptions FlightRecorderOptionsFromSettings();

// goro::trace::StartFlightRecorder starts recording into memory. Errors: InvalidArgument
// for max_bytes under 1 MiB; FailedPrecondition when tracing (or the recorder) is already
// on or no goro::Run is running.
// Thread safety: any thread; serialised with Start, Stop and the snapshot.
absl::Status StartFlightRecorder(const FlightRecorderOptions& options);

// goro::trace::StopFlightRecorder stops the recorder and drops its window. Errors:
// FailedPrecondition when the recorder is off (or a trace file is being written instead).
// Thread safety: any thread.
absl::Status StopFlightRecorder();

// goro::trace::FlightRecorderEnabled reports whether the flight recorder runs.
// Thread safety: any thread.
bool FlightRecorderEnabled();

// goro::trace::WriteFlightSnapshot writes the recorder's window to `fd` as a complete trace
// file (header, then whole generations, the last one ended by this call), which
// `goro-trace validate` accepts. The window is copied under the tracer's control mutex and
// written outside it, so a slow `fd` delays nothing but the caller. `fd` is not closed; on
// a non-blocking `fd` the call waits (poll) for room.
// Errors: FailedPrecondition "the flight recorder is off" when it is not running (also
// while a trace file is written instead); Unavailable / DataLoss with the errno text when
// writing fails (part of the snapshot may then have been written).
// Thread safety: any thread, including a goroutine; concurrent snapshots are serialised
// while they copy the window and run side by side while they write.
absl::Status WriteFlightSnapshot(int fd);

// goro::trace::FlightRecorderStats describes the recorder's memory (for tests and tools).
struct FlightRecorderStats {
  bool enabled = false;
  size_t max_bytes = 0;           // the bound
  size_t retained_bytes = 0;      // the window plus the generation being recorded, now
  size_t max_retained_bytes = 0;  // the largest retained_bytes seen since the start
  size_t window_generations = 0;  // complete generations in the window now
  uint64_t generations_recorded = 0;
  // Generations dropped because the bound or the age ran out (or because one generation
  // alone outgrew the bound).
  uint64_t generations_dropped = 0;
};

// goro::trace::GetFlightRecorderStats returns the recorder's statistics (enabled = false
// and zeros when it is off). Thread safety: any thread.
FlightRecorderStats GetFlightRecorderStats();

}  // namespace goro::trace

#endif  // GORO_TRACER_FLIGHT_RECORDER_H_

// The tracer's session: one Start ... Stop (or one flight recording), its sink (a file, a
// writer, or the flight recorder's in-memory window) and the control mutex that serialises
// Start, Stop, the generation advance, flight snapshots and the crash path. Shared by
// trace.cc (the advance), flight_recorder.cc and crash.cc; not part of the public API.

#ifndef GORO_TRACER_SESSION_H_
#define GORO_TRACER_SESSION_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "base/mutex.h"
#include "tracer/trace.h"

namespace goro::trace::internal {

// One complete generation kept by the flight recorder: its batches, back to back.
struct FlightGeneration {
  uint64_t gen = 0;
  // Constant once in the window; shared with snapshots being written outside the lock.
  std::shared_ptr<const std::string> bytes;
  absl::Time ended;  // when the advance closed it
};

// The flight recorder's window (Go 1.25's FlightRecorder): complete generations, oldest
// first, plus the generation being recorded. Every field is protected by g_control_mu.
//
// The bound: window_bytes + current.size() <= max_bytes at every append. An append that
// would pass it drops the oldest generations first; if the generation being recorded alone
// would pass it, that generation is dropped and the rest of it discarded as it comes. The
// window before it stays until the next generation starts, then goes too (generation
// numbers in a snapshot must follow each other, so the window cannot keep a gap): a
// snapshot taken meanwhile still gets it. The advance thread cuts a generation early once
// it holds a quarter of the bound, so that this is rare (it happens when the advance thread
// gets no CPU for long).
struct FlightWindow {
  size_t max_bytes = 0;                      // Constant after Start.
  absl::Duration max_age;                    // Constant after Start; zero: no age bound.
  std::string crash_path;                    // Constant after Start.
  std::deque<FlightGeneration> generations;  // the window, oldest first
  size_t window_bytes = 0;                   // sum of generations' sizes
  std::string current;                       // batches of the generation being recorded
  uint64_t current_gen = 0;                  // its number (0: none yet)
  bool current_dropped = false;              // the rest of current_gen is discarded
  bool window_stale = false;                 // a generation after the window was dropped
  // Statistics (FlightRecorderStats).
  size_t max_retained_bytes = 0;
  uint64_t generations_recorded = 0;
  uint64_t generations_dropped = 0;
};

// internal::Session is one tracing session.
struct Session {
  // Constant after Start. Null for the flight recorder.
  TraceWriter writer;
  // Constant after Start: the file Start opened, or -1 (a writer or the flight recorder).
  // The crash path writes to it with write(2).
  int fd = -1;
  // The rest is protected by g_control_mu.
  absl::Status write_error;
  bool header_written = false;
  // Bytes written so far of the current generation (the full buffers flushed between
  // advances); the advance loop cuts the generation early past tracegenerationbytes.
  size_t generation_bytes = 0;
  std::unique_ptr<FlightWindow> flight;  // set for a flight recording; constant pointer

  // The advance thread and its wakeup. wake_mu protects `stopping`.
  std::thread advancer;
  std::mutex wake_mu;
  std::condition_variable wake_cv;
  bool stopping = false;
};

// Serialises Start, Stop, advances, snapshots and the crash path. Never taken inside an
// acquire window.
extern base_internal::OsMutex g_control_mu;
// The running session, or null. Protected by g_control_mu.
extern Session* g_session ABSL_GUARDED_BY(g_control_mu);

// internal::ControlHeldByThisThread reports whether the calling thread holds
// g_control_mu (a thread-local flag set by ControlLock): the crash path must not wait for
// a lock its own thread holds. Async-signal-safe.
bool ControlHeldByThisThread();

// internal::ControlLock holds g_control_mu for its scope and marks the thread as its holder.
class ABSL_SCOPED_LOCKABLE ControlLock {
 public:
  ControlLock() ABSL_EXCLUSIVE_LOCK_FUNCTION(g_control_mu);
  ~ControlLock() ABSL_UNLOCK_FUNCTION();
  ControlLock(const ControlLock&) = delete;
  ControlLock& operator=(const ControlLock&) = delete;
};

// internal::StartSession starts `session` (Start and StartFlightRecorder). Errors:
// FailedPrecondition when tracing is on or no goro::Run is running.
absl::Status StartSession(std::unique_ptr<Session> session);

// internal::AdvanceLocked ends the current generation and writes it to the session's sink;
// with `stop`, tracing ends instead of going on with the next generation (Go's
// traceAdvance).
void AdvanceLocked(Session* session, bool stop) ABSL_EXCLUSIVE_LOCKS_REQUIRED(g_control_mu);

// internal::StopSession ends the running session (Stop and StopFlightRecorder): flushes the
// last generation, closes the file. `want_flight`: the caller stops only a flight recording
// (true) or only a file/writer trace (false); the other kind is refused with
// FailedPrecondition, as is no session at all. `who` names the caller in errors.
absl::Status StopSession(bool want_flight, const char* who);

// internal::FlightAppendLocked adds the bytes of the current generation `gen` to the
// window, keeping the bound (FlightWindow).
void FlightAppendLocked(FlightWindow* w, uint64_t gen, const char* data, size_t n)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(g_control_mu);
// internal::FlightEndGenerationLocked moves the finished generation into the window and
// drops what the bounds no longer allow.
void FlightEndGenerationLocked(FlightWindow* w, uint64_t gen)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(g_control_mu);

}  // namespace goro::trace::internal

#endif  // GORO_TRACER_SESSION_H_

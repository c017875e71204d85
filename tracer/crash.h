// The tracer's crash path: when the process dies while tracing, write what the trace
// buffers hold and a crash record (kEvFatal: the fatal message and the goroutine), and end
// the generation, so that the file (or the flight recorder's snapshot) is readable.
//
// Entry points: every GORO_FATAL (base/fatal.h runs the fatal-info writer registered here,
// so the ownership check's abort, an uncaught exception escaping a goroutine and a stack
// overflow, which all end in GORO_FATAL, are covered), and SIGSEGV, SIGBUS, SIGFPE, SIGILL
// and SIGABRT arriving while tracing (a handler installed when tracing first starts; it
// chains to the handler installed before it and the process still dies of the signal).
//
// What it does, with write(2) and no allocation (docs/trace-format.md, "Crash records"):
//   1. waits (at most 2 s) for the control mutex, so that no advance or flush is writing;
//   2. stops tracing (the generation number becomes 0) and waits (at most 500 ms in all)
//      for every other thread to leave its acquire window;
//   3. writes, into the current generation: the full buffers not yet written, every
//      thread's current buffer, then a structural batch with the string table, the stack
//      table (symbolised here with absl::Symbolize, which is async-signal-safe), the
//      kEvFatal record and kEvEndOfGeneration.
// Locks are only ever try-locked (a frozen or crashing thread may hold them); what sits
// behind a lock that is not free is left out and counted in the note printed on stderr.
//
// What can still be lost: a thread whose window stays open past the wait (its current
// buffer is left out, and events of other threads may then refer to states it did not
// record); stacks or strings in a table shard held by another thread; a crash on the
// tracer's own advance thread while it holds the control mutex (the file keeps the
// generations written before; the reader salvages them); a trace written to a
// TraceWriter (only files and the flight recorder get a crash record); and anything at
// all on SIGKILL or the kernel's OOM killer, where no code runs: the file then ends where
// the last periodic flush (every 5 ms) or advance left it, and the reader salvages the
// complete generations.

#ifndef GORO_TRACER_CRASH_H_
#define GORO_TRACER_CRASH_H_

#include "absl/strings/string_view.h"
#include "runtime/trace_hooks.h"

namespace goro::trace::internal {

// internal::InstallCrashHandlers registers the fatal-info writer and the signal handlers,
// once per process (later calls do nothing). Called by Start under the control mutex.
void InstallCrashHandlers();

// internal::WriteCrashRecord runs the crash path with `message` (the fatal message) and
// `signal` (0 for a goro fatal error). Only the first call in a process writes; a call from
// another thread while the first is writing waits for it (at most 5 s) so that the process
// does not die under it. Does nothing when tracing is off.
// Thread safety: async-signal-safe; any thread.
void WriteCrashRecord(absl::string_view message, int signal);

// internal::CrashPending reports whether the crash path has started: the advance thread
// then stops (it would only compete with it for the control mutex).
// Thread safety: any thread; one relaxed load.
bool CrashPending();

// internal::CrashingThreadState is the trace state of the thread running the crash path
// (null when none): the advance does not wait for that thread's window to close.
runtime_internal::TraceThreadState* CrashingThreadState();

}  // namespace goro::trace::internal

#endif  // GORO_TRACER_CRASH_H_

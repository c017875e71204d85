// Starting and stopping the tracer, and the generation advance (Go's StartTrace,
// traceAdvance, StopTrace).
//
// A generation ends when the advance publishes the next generation number: from then on
// every new acquire window writes into the next generation. The advance then waits until
// every thread's seqlock is even (no window of the old generation is still open), takes
// each thread's buffer of the old generation, and writes, in this order: the batches that
// filled during the generation, the threads' last batches, then one or more m == 0 batches
// with the string table, the stack table (symbolised here, never on the hot path) and the
// end-of-generation marker. All of one generation is written before any of the next.
//
// Differences from Go, on purpose: Start does not stop the world (statuses are written
// lazily by whoever first mentions a G or P in a generation, inside its bracket, so there
// is nothing to snapshot), and the periodic advance runs on a plain thread instead of a
// goroutine (so only a Stop called from goroutine code moves a goroutine to Waiting for
// the status pass).

#include "tracer/trace.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/mutex.h"
#include "runtime/m.h"
#include "runtime/p.h"
#include "runtime/sched.h"
#include "runtime/settings.h"
#include "runtime/trace_hooks.h"
#include "runtime/world.h"
#include "tracer/asymmetric_fence.h"
#include "tracer/crash.h"
#include "tracer/emit.h"
#include "tracer/format.h"
#include "tracer/session.h"
#include "tracer/state.h"
#include "tracer/status_pass.h"
#include "tracer/wire.h"

namespace goro::trace {

namespace internal {

base_internal::OsMutex g_control_mu{base_internal::LockRank::kTraceControl};
Session* g_session = nullptr;

namespace {
// Whether this thread holds g_control_mu (ControlLock); read by the crash path on the same
// thread, so a plain thread-local suffices.
thread_local bool t_holds_control = false;
}  // namespace

bool ControlHeldByThisThread() { return t_holds_control; }

ControlLock::ControlLock() {
  g_control_mu.Lock();
  t_holds_control = true;
}

ControlLock::~ControlLock() {
  t_holds_control = false;
  g_control_mu.Unlock();
}

}  // namespace internal

namespace {

using internal::EventBracket;
using internal::g_gen;
using internal::State;
using internal::TraceBuf;

// --- Hooks for runtime:core (runtime/trace_hooks.h) ---

void HookProcStart(P* p) { EventBracket().ProcStart(p); }
void HookProcStop(P* p) { EventBracket().ProcStop(p); }
void HookProcSteal(P* p, M* from, int64_t when) { EventBracket().ProcSteal(p, from, when); }
int64_t HookTraceNow() { return internal::NowNs(); }
void HookSTWBegin(int kind) { EventBracket().STWBegin(static_cast<STWKind>(kind)); }
void HookSTWEnd() { EventBracket().STWEnd(); }

// runtime_internal::STWReason (world.h) is passed through as the trace's STWKind.
static_assert(static_cast<int>(runtime_internal::STWReason::kGC) == static_cast<int>(STWKind::kGC));
static_assert(static_cast<int>(runtime_internal::STWReason::kForTest) ==
              static_cast<int>(STWKind::kForTest));

constexpr runtime_internal::TraceHooks kHooks = {
    .proc_start = HookProcStart,
    .proc_stop = HookProcStop,
    .proc_steal = HookProcSteal,
    .trace_now = HookTraceNow,
    .stw_begin = HookSTWBegin,
    .stw_end = HookSTWEnd,
};

// The last generation number used in this process; generations never repeat, so a G's or
// P's trace_gen from an earlier trace never matches a new one.
uint64_t g_last_gen ABSL_GUARDED_BY(internal::g_control_mu) = 0;

using internal::ControlLock;
using internal::g_control_mu;
using internal::g_session;
using internal::Session;

// Writes bytes of generation `gen` (0: the header) to the session's sink.
void Write(Session* session, uint64_t gen, absl::string_view bytes)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(g_control_mu) {
  if (bytes.empty()) return;
  if (session->flight != nullptr) {
    internal::FlightAppendLocked(session->flight.get(), gen, bytes.data(), bytes.size());
    return;
  }
  if (!session->write_error.ok()) return;
  session->generation_bytes += bytes.size();
  session->write_error = session->writer(bytes);
}

void WriteHeaderOnce(Session* session) ABSL_EXCLUSIVE_LOCKS_REQUIRED(g_control_mu) {
  // A flight recording keeps generations only; a snapshot starts with its own header.
  if (session->header_written || session->flight != nullptr) return;
  uint8_t header[kHeaderSize] = {};
  std::memcpy(header, kMagic, sizeof(kMagic));
  PutU16LE(header + sizeof(kMagic), kVersion);
  Write(session, 0, absl::string_view(reinterpret_cast<const char*>(header), kHeaderSize));
  session->header_written = true;
}

// Writes one M's batch (header, then the payload in place: no copy) and recycles it.
void WriteBuffer(Session* session, TraceBuf* buf) ABSL_EXCLUSIVE_LOCKS_REQUIRED(g_control_mu) {
  std::string header;
  internal::AppendBatchHeader(&header, buf->gen, buf->m, buf->base_time,
                              static_cast<uint32_t>(buf->len));
  Write(session, buf->gen, header);
  Write(session, buf->gen, absl::string_view(reinterpret_cast<const char*>(buf->data), buf->len));
  internal::RecycleBuf(buf);
}

// Writes the full buffers of the current generation between advances (Go's trace reader
// goroutine takes full buffers as they come), so that memory stays bounded by the write
// rate rather than by the generation's length. Under g_control_mu, so no advance runs.
void FlushFull(Session* session) ABSL_EXCLUSIVE_LOCKS_REQUIRED(g_control_mu) {
  const uint64_t gen = g_gen.load(std::memory_order_relaxed);
  if (gen == 0) return;
  std::vector<TraceBuf*> ready;
  {
    base_internal::OsMutexLock lock(&State().full_mu);
    std::vector<TraceBuf*> keep;
    for (TraceBuf* buf : State().full) (buf->gen == gen ? ready : keep).push_back(buf);
    State().full = std::move(keep);
  }
  if (ready.empty()) return;
  WriteHeaderOnce(session);
  for (TraceBuf* buf : ready) WriteBuffer(session, buf);
}

}  // namespace

// Go's traceAdvance. `stop`: end tracing instead of starting the next generation.
void internal::AdvanceLocked(Session* session, bool stop) {
  const uint64_t gen = g_gen.load(std::memory_order_relaxed);
  if (gen == 0) return;
  const uint64_t next = stop ? 0 : gen + 1;
  // Statuses of goroutines nothing has mentioned in this generation (status_pass.h),
  // collected while `gen` is still current and written below once it has closed.
  const std::vector<internal::UntracedG> untraced = internal::CollectUntracedGoroutines(gen);
  if (!stop) g_last_gen = next;
  // Publish the next generation. Pairs with the seqlock store and generation load in
  // EventBracket::Open (asymmetric_fence.h): after the heavy fence, a window that read
  // `gen` has its odd seqlock visible to the wait below.
  g_gen.store(next, std::memory_order_seq_cst);
  internal::HeavyFence();

  std::vector<runtime_internal::TraceThreadState*> threads;
  runtime_internal::Sched* s = runtime_internal::sched();
  {
    base_internal::OsMutexLock lock(&s->allm_mu);
    for (auto& m : s->allm) threads.push_back(&m->trace);
  }
  threads.push_back(&State().orphan);
  std::vector<TraceBuf*> last;
  for (runtime_internal::TraceThreadState* ts : threads) {
    // Wait for the thread to leave any window of the old generation. A thread that is
    // running the crash path (crash.h) never leaves its window; its buffer holds whole
    // events only and it writes no more, so it is taken as it is.
    for (int spins = 0; ts->seqlock.load(std::memory_order_acquire) % 2 != 0; ++spins) {
      if (ts == internal::CrashingThreadState()) break;
      if (spins > 100) sched_yield();
    }
    if (TraceBuf* buf = internal::TakeBuffer(ts, gen)) last.push_back(buf);
  }
  std::vector<TraceBuf*> done;
  {
    base_internal::OsMutexLock lock(&State().full_mu);
    std::vector<TraceBuf*> keep;
    for (TraceBuf* buf : State().full) (buf->gen == gen ? done : keep).push_back(buf);
    State().full = std::move(keep);
  }
  done.insert(done.end(), last.begin(), last.end());

  WriteHeaderOnce(session);
  for (TraceBuf* buf : done) WriteBuffer(session, buf);
  std::string out;
  {
    internal::BatchBuilder structural(gen, &out);
    internal::WriteUntracedStatuses(gen, untraced, &structural);
    State().stacks[gen % 2].DumpAndReset(&State().strings[gen % 2], &structural);
    State().strings[gen % 2].DumpAndReset(&structural);
    const uint8_t end = kEvEndOfGeneration;
    structural.Append(&end, 1);
  }
  Write(session, gen, out);
  // The old generation is all written; the next one's bytes come with the next flush.
  session->generation_bytes = 0;
  if (session->flight != nullptr) internal::FlightEndGenerationLocked(session->flight.get(), gen);
}

namespace {

// How often the advance thread writes full buffers between advances.
constexpr absl::Duration kFlushInterval = absl::Milliseconds(5);

// A generation written to a file or writer ends after traceadvanceperiod or once about
// GORODEBUG tracegenerationbytes (8 MiB) of it are written, whichever comes first. A reader
// holds one whole generation in memory (goro-trace: about 64 bytes per event, twice,
// against about 5 bytes per event in the file), so this bounds what reading any goro trace
// costs: 8 MiB is about 1.8M events and 250 MB of reader memory. Without it a busy second
// of the README's main job made a generation of 5.2M events, and `goro-trace export`
// peaked at 740 MB (docs/benchmarks.md).

void AdvanceLoop(Session* session) {
  absl::Time next_advance = absl::Now() + debug::traceadvanceperiod.Get();
  for (;;) {
    const absl::Duration period = debug::traceadvanceperiod.Get();
    const absl::Time now = absl::Now();
    {
      std::unique_lock<std::mutex> lock(session->wake_mu);
      const absl::Duration wait = std::min(kFlushInterval, next_advance - now);
      if (period > absl::ZeroDuration() && wait > absl::ZeroDuration()) {
        session->wake_cv.wait_for(lock, absl::ToChronoNanoseconds(wait),
                                  [&] { return session->stopping; });
      }
      if (session->stopping) return;
    }
    // The process is dying and the crash path writes the last generation (crash.h).
    if (internal::CrashPending()) return;
    ControlLock lock;
    if (g_session != session) return;
    if (period <= absl::ZeroDuration() || absl::Now() >= next_advance) {
      internal::AdvanceLocked(session, false);
      next_advance = absl::Now() + period;
    } else {
      FlushFull(session);
      if (session->flight == nullptr &&
          session->generation_bytes >= static_cast<size_t>(debug::tracegenerationbytes.Get())) {
        internal::AdvanceLocked(session, false);
        next_advance = absl::Now() + period;
      }
      // The flight recorder cuts a generation early once it holds a quarter of its bound
      // (session.h, FlightWindow), so that the bound rarely has to drop a generation.
      if (session->flight != nullptr &&
          session->flight->current.size() > session->flight->max_bytes / 4) {
        internal::AdvanceLocked(session, false);
        next_advance = absl::Now() + period;
      }
    }
  }
}

}  // namespace

absl::Status internal::StartSession(std::unique_ptr<Session> session) {
  const char* who =
      session->flight != nullptr ? "goro::trace::StartFlightRecorder" : "goro::trace::Start";
#ifdef GORO_TRACE_COMPILED_OUT
  return absl::UnimplementedError(absl::StrCat(
      who, ": this build has the tracer compiled out (GORO_TRACE_COMPILED_OUT)"));
#endif
  ControlLock lock;
  if (g_session != nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(who, ": tracing is already on"));
  }
  if (runtime_internal::sched() == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(who, ": no goro::Run is running"));
  }
  internal::ChooseClock(debug::traceclock.Get() == 0);
  internal::InitAsymmetricFence();
  // The fatal paths write what the buffers hold (crash.h); installed once per process.
  internal::InstallCrashHandlers();
  g_session = session.release();
  runtime_internal::g_trace_hooks.store(&kHooks, std::memory_order_release);
  g_last_gen++;
  g_gen.store(g_last_gen, std::memory_order_seq_cst);
  Session* s = g_session;
  s->advancer = std::thread(AdvanceLoop, s);
  return absl::OkStatus();
}

absl::Status Start(TraceWriter writer) {
  auto session = std::make_unique<Session>();
  session->writer = std::move(writer);
  return internal::StartSession(std::move(session));
}

absl::Status Start(const std::string& path) {
  {
    ControlLock lock;
    if (g_session != nullptr) return absl::FailedPreconditionError("goro::trace::Start: tracing is already on");
  }
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat("goro::trace::Start: cannot create ", path, ": ",
                                               std::strerror(errno)));
  }
  auto session = std::make_unique<Session>();
  session->fd = fd;
  session->writer = [fd, path](absl::string_view bytes) -> absl::Status {
    while (!bytes.empty()) {
      const ssize_t n = write(fd, bytes.data(), bytes.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return absl::DataLossError(absl::StrCat("goro::trace: writing ", path, ": ", std::strerror(errno)));
      }
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return absl::OkStatus();
  };
  absl::Status st = internal::StartSession(std::move(session));
  if (!st.ok()) close(fd);
  return st;
}

absl::Status Stop() { return internal::StopSession(false, "goro::trace::Stop"); }

absl::Status internal::StopSession(bool want_flight, const char* who) {
  Session* session;
  {
    ControlLock lock;
    session = g_session;
    if (session == nullptr) return absl::FailedPreconditionError(absl::StrCat(who, ": tracing is off"));
    if ((session->flight != nullptr) != want_flight) {
      return absl::FailedPreconditionError(absl::StrCat(
          who, want_flight ? ": tracing writes a trace, not the flight recorder (use Stop)"
                           : ": the flight recorder is on, not a trace (use StopFlightRecorder)"));
    }
  }
  {
    std::lock_guard<std::mutex> lock(session->wake_mu);
    session->stopping = true;
  }
  session->wake_cv.notify_all();
  session->advancer.join();
  absl::Status st;
  {
    ControlLock lock;
    AdvanceLocked(session, true);
    runtime_internal::g_trace_hooks.store(nullptr, std::memory_order_release);
    g_session = nullptr;
    st = session->write_error;
  }
  if (session->fd >= 0 && close(session->fd) != 0 && st.ok()) {
    st = absl::DataLossError(absl::StrCat("goro::trace: close: ", std::strerror(errno)));
  }
  delete session;
  return st;
}

bool IsEnabled() { return internal::TracingOn(); }

// --- User annotations ---

namespace {
std::atomic<uint64_t> g_next_task{1};
}  // namespace

Task::Task(absl::string_view name, const Task* parent)
    : id_(g_next_task.fetch_add(1, std::memory_order_relaxed)) {
  EventBracket().UserTaskBegin(id_, parent != nullptr ? parent->id() : 0, name);
}

Task::~Task() { End(); }

void Task::End() {
  if (ended_) return;
  ended_ = true;
  EventBracket().UserTaskEnd(id_);
}

Region::Region(absl::string_view name, const Task* task)
    : name_(name), task_(task != nullptr ? task->id() : 0) {
  EventBracket().UserRegion(true, task_, name_);
}

Region::~Region() { EventBracket().UserRegion(false, task_, name_); }

void Log(absl::string_view key, absl::string_view message, const Task* task) {
  EventBracket().UserLog(task != nullptr ? task->id() : 0, key, message);
}

}  // namespace goro::trace

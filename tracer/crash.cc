// The tracer's crash path (crash.h): the fatal-info writer, the signal handlers, and the
// async-signal-safe writer of the last generation.
//
// Everything here runs on a dying process, possibly in a signal handler on a 64 KiB
// signal stack: no allocation, no blocking lock (try-locks only, and the locks taken are
// never released: the process is about to die), static buffers instead of big locals, and
// write(2) for every byte. One thread at a time runs it (g_crash_state), so the static
// buffers need no other protection.

#include "tracer/crash.h"

#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "absl/debugging/symbolize.h"
#include "base/fatal.h"
#include "runtime/g.h"
#include "runtime/m.h"
#include "runtime/sched.h"
#include "runtime/stack.h"
#include "runtime/stack_guard.h"
#include "tracer/asymmetric_fence.h"
#include "tracer/batch.h"
#include "tracer/emit.h"
#include "tracer/session.h"
#include "tracer/state.h"
#include "tracer/wire.h"

namespace goro::trace::internal {
namespace {

using runtime_internal::TraceThreadState;

// --- Who runs the crash path ---

// 0: nobody yet; 1: a thread is writing; 2: done. Atomic: claimed with a CAS (relaxed: the
// claim orders nothing, the winner works alone); the store of 2 is a release so that a
// waiting thread's acquire load sees the file complete before it lets the process die.
std::atomic<int> g_crash_state{0};
// Atomic (relaxed, a hint for the advance's wait): the crashing thread's trace state.
std::atomic<TraceThreadState*> g_crash_ts{nullptr};
// Whether this thread is running the crash path (a fault inside it must not wait for it).
thread_local bool t_in_crash_path = false;

int64_t CrashClockNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

void SleepNs(long ns) {
  timespec ts{0, ns};
  nanosleep(&ts, nullptr);
}

// --- Output ---

// All writes of one crash path go to one descriptor; the first error stops the rest.
struct CrashOut {
  int fd = -1;
  bool ok = true;
  uint64_t bytes = 0;

  void Write(const void* data, size_t n) {
    const auto* p = static_cast<const char*>(data);
    while (ok && n > 0) {
      const ssize_t w = ::write(fd, p, n);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        ok = false;
        return;
      }
      p += w;
      n -= static_cast<size_t>(w);
      bytes += static_cast<uint64_t>(w);
    }
  }
};

CrashOut g_out;
uint64_t g_gen_out = 0;  // the generation being written

// Writes one batch: header then payload.
void WriteBatch(uint64_t m, int64_t base_time, const uint8_t* payload, size_t len) {
  uint8_t header[kMaxBatchHeader];
  const size_t n =
      EncodeBatchHeader(header, g_gen_out, m, base_time, static_cast<uint32_t>(len));
  g_out.Write(header, n);
  g_out.Write(payload, len);
}

// The structural (m == 0) batch being assembled.
uint8_t g_payload[kMaxBatchPayload];
size_t g_payload_len = 0;
int64_t g_base_time = 0;
int64_t g_last_time = 0;

void FlushStructural() {
  if (g_payload_len == 0) return;
  WriteBatch(0, g_base_time, g_payload, g_payload_len);
  g_payload_len = 0;
}

// Appends one whole event (n <= kMaxBatchPayload) to the structural batch.
void Append(const uint8_t* bytes, size_t n) {
  if (g_payload_len + n > kMaxBatchPayload) FlushStructural();
  if (g_payload_len == 0) g_base_time = g_last_time = NowNs();
  std::memcpy(g_payload + g_payload_len, bytes, n);
  g_payload_len += n;
}

// One event being encoded: big enough for a stack of kMaxFramesPerStack frames, or a
// string of kMaxStringSize bytes.
uint8_t g_event[1 + 2 * kMaxVarintBytes + kMaxFramesPerStack * 4 * kMaxVarintBytes +
                kMaxStringSize];

void AppendString(uint64_t id, absl::string_view s) {
  if (s.size() > kMaxStringSize) s = s.substr(0, kMaxStringSize);
  uint8_t* p = g_event;
  *p++ = kEvString;
  p = PutUvarint(p, id);
  p = PutUvarint(p, s.size());
  std::memcpy(p, s.data(), s.size());
  p += s.size();
  Append(g_event, static_cast<size_t>(p - g_event));
}

// --- Symbols: string ids for function names, above every id the string table uses ---

constexpr uint64_t kFirstCrashStringId = uint64_t{1} << 40;
uint64_t g_next_string_id = kFirstCrashStringId;

struct SymbolSlot {
  uintptr_t pc;
  uint64_t id;
};
constexpr size_t kSymbolSlots = 4096;
SymbolSlot g_symbols[kSymbolSlots];
char g_name[1024];

void PutHex(char* out, size_t cap, uintptr_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  char tmp[16];
  int n = 0;
  do {
    tmp[n++] = kDigits[v & 0xf];
    v >>= 4;
  } while (v != 0);
  size_t i = 0;
  if (cap < 3 + static_cast<size_t>(n)) return;
  out[i++] = '0';
  out[i++] = 'x';
  while (n > 0) out[i++] = tmp[--n];
  out[i] = '\0';
}

// The string id of the function containing return address `pc` (symbolised at pc - 1),
// writing its kEvString the first time.
uint64_t SymbolId(uintptr_t pc) {
  size_t slot = (pc * 0x9e3779b97f4a7c15ULL) >> 52;  // 12 bits: kSymbolSlots
  for (int probe = 0; probe < 8; ++probe, slot = (slot + 1) % kSymbolSlots) {
    if (g_symbols[slot].pc == pc) return g_symbols[slot].id;
    if (g_symbols[slot].pc == 0) break;
  }
  if (!absl::Symbolize(reinterpret_cast<const void*>(pc - 1), g_name, sizeof(g_name))) {
    PutHex(g_name, sizeof(g_name), pc);
  }
  const uint64_t id = g_next_string_id++;
  AppendString(id, g_name);
  if (g_symbols[slot].pc == 0) g_symbols[slot] = {pc, id};
  return id;
}

void VisitString(void*, uint64_t id, absl::string_view s) { AppendString(id, s); }

void VisitStack(void*, uint64_t id, const uintptr_t* pcs, size_t n) {
  if (n > kMaxFramesPerStack) n = kMaxFramesPerStack;
  // Symbolise first: SymbolId may append kEvString events, and g_event is shared.
  uint64_t funcs[kMaxFramesPerStack];
  for (size_t i = 0; i < n; ++i) funcs[i] = SymbolId(pcs[i]);
  uint8_t* p = g_event;
  *p++ = kEvStack;
  p = PutUvarint(p, id);
  p = PutUvarint(p, n);
  for (size_t i = 0; i < n; ++i) {
    p = PutUvarint(p, pcs[i]);
    p = PutUvarint(p, funcs[i]);
    p = PutUvarint(p, 0);  // file: not known here
    p = PutUvarint(p, 0);  // line
  }
  Append(g_event, static_cast<size_t>(p - g_event));
}

// --- The crash path ---

// Thread states of every M (and the orphan state): a fixed array, no allocation.
constexpr int kMaxThreads = 4096;
TraceThreadState* g_threads[kMaxThreads];

// What the note on stderr reports.
struct Report {
  const char* skipped_reason = nullptr;  // non-null: nothing was written, and why
  int buffers = 0;
  int threads_skipped = 0;       // windows still open after the wait
  int stack_shards_skipped = 0;  // stack-table shards whose lock was held
  bool strings_skipped = false;
  bool full_skipped = false;
  bool threads_unknown = false;  // the M list's lock was held
  bool flight = false;
  bool flight_events_dropped = false;  // the crash generation had outgrown the bound
  uint64_t gen = 0;
};

// Waits (until `deadline`) for `mu` to be free and takes it.
bool TryLockUntil(base_internal::OsMutex* mu, int64_t deadline) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  while (!mu->TryLock()) {
    if (CrashClockNs() > deadline) return false;
    SleepNs(1000000);
  }
  return true;
}

void WriteTraceBuf(const TraceBuf* buf, Report* r) {
  if (buf == nullptr || buf->gen != g_gen_out || buf->len == 0) return;
  WriteBatch(buf->m, buf->base_time, buf->data, buf->len);
  ++r->buffers;
}

// The whole crash path, once the caller has claimed it.
void Run(absl::string_view message, int signal, Report* r) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  M* const own_m = runtime_internal::CurrentM();
  G* const own_g = runtime_internal::CurrentG();
  TraceThreadState* const own = own_m != nullptr ? &own_m->trace : nullptr;
  g_crash_ts.store(own, std::memory_order_relaxed);

  // 1. The control mutex: an advance in progress on another thread finishes its
  // generation first (it does not wait for this thread's window, see g_crash_ts).
  if (ControlHeldByThisThread()) {
    r->skipped_reason = "the crash happened on the tracer's own thread while it was writing";
    return;
  }
  if (!TryLockUntil(&g_control_mu, CrashClockNs() + 2000000000)) {
    r->skipped_reason = "the tracer's writer did not finish its generation within 2 s";
    return;
  }
  Session* const session = g_session;
  const uint64_t gen = g_gen.load(std::memory_order_relaxed);
  if (session == nullptr || gen == 0) {
    r->skipped_reason = "tracing had stopped";
    return;
  }
  r->gen = gen;
  r->flight = session->flight != nullptr;
  if (session->flight == nullptr && session->fd < 0) {
    r->skipped_reason = "the trace goes to a TraceWriter (only trace files and the flight "
                        "recorder get a crash record)";
    return;
  }
  if (session->flight == nullptr && !session->write_error.ok()) {
    r->skipped_reason = "the trace file had a write error";
    return;
  }

  // 2. Stop tracing: no window opened from now on writes an event. Pairs with the seqlock
  // store and generation load in EventBracket::Open, as in the advance (trace.cc).
  g_gen.store(0, std::memory_order_seq_cst);
  HeavyFence();
  int nthreads = 0;
  const int64_t window_deadline = CrashClockNs() + 500000000;
  if (runtime_internal::Sched* s = runtime_internal::sched(); s != nullptr) {
    if (TryLockUntil(&s->allm_mu, window_deadline)) {
      for (auto& m : s->allm) {
        if (nthreads < kMaxThreads - 1) g_threads[nthreads++] = &m->trace;
      }
    } else {
      r->threads_unknown = true;
      if (own != nullptr) g_threads[nthreads++] = own;
    }
  }
  g_threads[nthreads++] = &State().orphan;
  for (int i = 0; i < nthreads; ++i) {
    TraceThreadState* ts = g_threads[i];
    if (ts == own) continue;  // this thread writes no more events
    // Acquire: pairs with the release store that closes a window (emit.cc), so that the
    // buffer's bytes are visible once the seqlock is even.
    while (ts->seqlock.load(std::memory_order_acquire) % 2 != 0) {
      if (CrashClockNs() > window_deadline) break;
      sched_yield();
    }
    if (ts->seqlock.load(std::memory_order_acquire) % 2 != 0) {
      g_threads[i] = nullptr;  // still writing: its buffer is left out
      ++r->threads_skipped;
    }
  }

  // 3. Where the bytes go.
  g_gen_out = gen;
  bool drop_events = false;
  if (FlightWindow* w = session->flight.get(); w != nullptr) {
    g_out.fd = ::open(w->crash_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (g_out.fd < 0) {
      r->skipped_reason = "the flight recorder's crash snapshot file could not be created";
      return;
    }
    uint8_t header[kHeaderSize] = {};
    std::memcpy(header, kMagic, sizeof(kMagic));
    PutU16LE(header + sizeof(kMagic), kVersion);
    g_out.Write(header, kHeaderSize);
    // The window, unless a generation after it was dropped (a gap): then only the crash
    // generation follows the header.
    if (!w->window_stale && !(w->current_dropped && w->current_gen != gen)) {
      for (const FlightGeneration& fg : w->generations) {
        g_out.Write(fg.bytes->data(), fg.bytes->size());
      }
    }
    if (w->current_dropped && w->current_gen == gen) {
      // The crash generation outgrew the bound and its start is gone: it gets the tables
      // and the crash record, without the Ms' events.
      drop_events = true;
      r->flight_events_dropped = true;
    } else if (w->current_gen == gen) {
      g_out.Write(w->current.data(), w->current.size());
    }
  } else {
    g_out.fd = session->fd;
    if (!session->header_written) {
      uint8_t header[kHeaderSize] = {};
      std::memcpy(header, kMagic, sizeof(kMagic));
      PutU16LE(header + sizeof(kMagic), kVersion);
      g_out.Write(header, kHeaderSize);
      session->header_written = true;
    }
  }

  // 4. The Ms' batches: the full ones not yet written (in the order they filled), then each
  // thread's current one.
  if (drop_events) {
    // Nothing of the Ms.
  } else if (State().full_mu.TryLock()) {
    for (TraceBuf* buf : State().full) WriteTraceBuf(buf, r);
  } else {
    r->full_skipped = true;
  }
  for (int i = 0; i < nthreads && !drop_events; ++i) {
    if (g_threads[i] != nullptr) {
      WriteTraceBuf(static_cast<const TraceBuf*>(g_threads[i]->buf[gen % 2]), r);
    }
  }

  // 5. The structural batch: tables, the crash record, the end of the generation.
  r->strings_skipped = !State().strings[gen % 2].TryVisitForCrash(&VisitString, nullptr);
  r->stack_shards_skipped = State().stacks[gen % 2].TryVisitForCrash(&VisitStack, nullptr);
  const uint64_t message_id = g_next_string_id++;
  AppendString(message_id, message);
  {
    uint8_t ev[1 + 5 * kMaxVarintBytes];
    uint8_t* p = ev;
    *p++ = kEvFatal;
    if (g_payload_len == 0) g_base_time = g_last_time = NowNs();
    const int64_t now = NowNs();
    const int64_t delta = now > g_last_time ? now - g_last_time : 0;
    g_last_time += delta;
    p = PutUvarint(p, static_cast<uint64_t>(delta));
    p = PutUvarint(p, own_g != nullptr ? static_cast<uint64_t>(own_g->id) : 0);
    p = PutUvarint(p, own_m != nullptr ? TraceMId(own_m) : 0);
    p = PutUvarint(p, static_cast<uint64_t>(signal));
    p = PutUvarint(p, message_id);
    Append(ev, static_cast<size_t>(p - ev));
  }
  const uint8_t end = kEvEndOfGeneration;
  Append(&end, 1);
  FlushStructural();
  if (session->flight != nullptr) ::close(g_out.fd);
}

void PrintReport(const Report& r) {
  base_internal::RawWriter w(2);
  if (r.skipped_reason != nullptr) {
    w.Put("goro: trace: no crash record: ");
    w.Put(r.skipped_reason);
    w.Put('\n');
    return;
  }
  w.Put("goro: trace: wrote the crash record to ");
  if (r.flight) {
    w.Put("the flight recorder snapshot ");
    w.Put(g_session->flight->crash_path.c_str());
  } else {
    w.Put("the trace file");
  }
  w.Put(" (generation ");
  w.Put(r.gen);
  w.Put(", ");
  w.Put(r.buffers);
  w.Put(" thread buffers, ");
  w.Put(g_out.bytes);
  w.Put(" bytes");
  if (!g_out.ok) w.Put("; a write failed, the file is cut");
  if (r.threads_skipped > 0) {
    w.Put("; lost: ");
    w.Put(r.threads_skipped);
    w.Put(" threads still writing events");
  }
  if (r.threads_unknown) w.Put("; lost: the buffers of other threads (thread list locked)");
  if (r.flight_events_dropped) w.Put("; lost: the events of the last generation (it outgrew the window)");
  if (r.full_skipped) w.Put("; lost: the full buffers (their queue was locked)");
  if (r.strings_skipped) w.Put("; lost: the string table (locked)");
  if (r.stack_shards_skipped > 0) {
    w.Put("; lost: ");
    w.Put(r.stack_shards_skipped);
    w.Put(" stack table shards (locked)");
  }
  w.Put(")\n");
}

// --- Entry points ---

void FatalWriter(int /*fd*/) {
  if (!TracingOn()) return;
  WriteCrashRecord(base_internal::FatalMessage(), 0);
}

constexpr int kSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
constexpr int kNumSignals = sizeof(kSignals) / sizeof(kSignals[0]);
// Written once by InstallCrashHandlers before the handler is installed; read-only after.
struct sigaction g_previous[kNumSignals];

const char* SignalName(int sig) {
  switch (sig) {
    case SIGSEGV: return "SIGSEGV (segmentation violation)";
    case SIGBUS: return "SIGBUS (bus error)";
    case SIGFPE: return "SIGFPE (floating-point exception)";
    case SIGILL: return "SIGILL (illegal instruction)";
    case SIGABRT: return "SIGABRT (aborted)";
    default: return "signal";
  }
}

// The crash record's message for a signal: "signal SIGSEGV (...) at address 0x...".
char g_signal_message[256];

absl::string_view FormatSignalMessage(int sig, const siginfo_t* info) {
  size_t n = 0;
  auto put = [&n](const char* s) {
    while (*s != '\0' && n + 1 < sizeof(g_signal_message)) g_signal_message[n++] = *s++;
  };
  put("signal ");
  put(SignalName(sig));
  if (sig != SIGABRT && info != nullptr && info->si_code > 0) {
    char hex[24];
    PutHex(hex, sizeof(hex), reinterpret_cast<uintptr_t>(info->si_addr));
    put(" at address ");
    put(hex);
  }
  return absl::string_view(g_signal_message, n);
}

// Hands the signal to the handler installed before ours, or to the default action.
void Chain(int index, int sig, siginfo_t* info, void* ucontext) {
  const struct sigaction& previous = g_previous[index];
  if ((previous.sa_flags & SA_SIGINFO) != 0 && previous.sa_sigaction != nullptr) {
    previous.sa_sigaction(sig, info, ucontext);
    return;
  }
  if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
    previous.sa_handler(sig);
    return;
  }
  // The default action (or ignore): restore the old disposition, and re-raise. The raised
  // signal stays pending while this handler runs and is delivered when it returns; for a
  // fault the instruction would fault again in any case.
  sigaction(sig, &previous, nullptr);
  if (previous.sa_handler == SIG_DFL) raise(sig);
}

void OnCrashSignal(int sig, siginfo_t* info, void* ucontext) {
  const int saved_errno = errno;
  int index = 0;
  while (index < kNumSignals - 1 && kSignals[index] != sig) ++index;
  // A stack overflow is the stack guard's to report (runtime/stack_guard.cc): its
  // GORO_FATAL names the goroutine and reaches the crash path through FatalWriter.
  const bool overflow = (sig == SIGSEGV || sig == SIGBUS) && info != nullptr &&
                        runtime_internal::FindStackByGuardAddress(
                            reinterpret_cast<uintptr_t>(info->si_addr)) != nullptr;
  if (!overflow && TracingOn() && g_crash_state.load(std::memory_order_relaxed) == 0) {
    const absl::string_view message = FormatSignalMessage(sig, info);
    {
      base_internal::RawWriter w(2);
      w.Put("goro: ");
      w.Put(message);
      w.Put(" while tracing\n");
    }
    WriteCrashRecord(message, sig);
  }
  Chain(index, sig, info, ucontext);
  errno = saved_errno;
}

}  // namespace

bool CrashPending() { return g_crash_state.load(std::memory_order_relaxed) != 0; }

runtime_internal::TraceThreadState* CrashingThreadState() {
  return g_crash_ts.load(std::memory_order_relaxed);
}

void WriteCrashRecord(absl::string_view message, int signal) {
  if (t_in_crash_path) return;  // a fault inside the crash path itself
  int expected = 0;
  if (!g_crash_state.compare_exchange_strong(expected, 1, std::memory_order_relaxed)) {
    // Another thread is writing: let it finish before this one lets the process die.
    // Acquire: pairs with the release store of 2 below.
    const int64_t deadline = CrashClockNs() + 5000000000;
    while (g_crash_state.load(std::memory_order_acquire) != 2 && CrashClockNs() < deadline) {
      SleepNs(1000000);
    }
    return;
  }
  t_in_crash_path = true;
  Report report;
  Run(message, signal, &report);
  PrintReport(report);
  t_in_crash_path = false;
  // Release: the file is complete for a thread waiting above.
  g_crash_state.store(2, std::memory_order_release);
}

void InstallCrashHandlers() {
  static std::atomic<bool> installed{false};
  if (installed.exchange(true, std::memory_order_relaxed)) return;
  RegisterFatalInfoWriter(&FatalWriter);
  for (int i = 0; i < kNumSignals; ++i) {
    struct sigaction sa;
    std::memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = &OnCrashSignal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(kSignals[i], &sa, &g_previous[i]);
  }
}

}  // namespace goro::trace::internal

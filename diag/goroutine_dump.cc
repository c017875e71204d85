// The goroutine dump (goroutine_dump.h): taking records through the scan bit, and
// printing them in Go's traceback shape.

#include "diag/goroutine_dump.h"

#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/mutex.h"
#include "runtime/g.h"
#include "runtime/m.h"
#include "runtime/note.h"
#include "runtime/park.h"
#include "runtime/sched.h"
#include "symbolize/frame.h"
#include "symbolize/symbolizer.h"
#include "tracer/emit.h"
#include "tracer/format.h"

namespace goro::diag {
namespace {

using runtime_internal::Sched;

// Goroutines one scheduler-stack batch visits when the dumper is a goroutine.
constexpr size_t kBatchGoroutines = 64;

// What one batch reads and fills in.
struct DumpWork {
  std::vector<G*> batch;
  std::vector<GoroutineRecord>* out = nullptr;
  G* self = nullptr;     // the dumping goroutine, or null
  int64_t now = 0;       // NanoTime at the dump's start
};

const char* StatusName(uint32_t status) {
  switch (status) {
    case kGIdle:
      return "idle";
    case kGRunnable:
      return "runnable";
    case kGRunning:
      return "running";
    case kGSyscall:
      return "syscall";
    case kGWaiting:
      return "waiting";
    case kGDead:
      return "dead";
    case kGPreempted:
      return "preempted";
    default:
      return "???";
  }
}

// Takes g's record if g is live: suspend, copy, resume. `mp` is the calling thread's M
// (null for a thread without one), for the ownership check.
void Visit(G* g, const M* mp, const DumpWork& w) {
  const uint32_t before = ReadGStatus(g) & ~uint32_t{kGScan};
  if (before == kGDead || before == kGIdle) return;
  const SuspendGState held = SuspendG(g);
  if (held.dead) return;
  GoroutineRecord r;
  r.id = g->id;
  r.status = ReadGStatus(g) & ~uint32_t{kGScan};
  r.wait_reason = g->wait_reason.load(std::memory_order_relaxed);
  // A goroutine that was running when the dump reached it (the dump stopped it, as Go's
  // dump shows such a goroutine "running"), and the dumper itself, run.
  if (g == w.self || before == kGRunning || held.stopped) {
    r.state = "running";
  } else if (r.status == kGWaiting && r.wait_reason != WaitReason::kZero) {
    r.state = WaitReasonString(r.wait_reason);
  } else {
    r.state = StatusName(r.status);
  }
  if (g != w.self) {
    NoteWaitingSince(g, w.now);
    const int64_t since = g->wait_since.load(std::memory_order_relaxed);
    const bool waiting = r.status == kGWaiting || r.status == kGSyscall;
    if (waiting && since != 0 && since < w.now) r.waited = absl::Nanoseconds(w.now - since);
  }
  r.locked_to_thread = g->lock_count > 0;
  r.parent_id = g->parent_id;
  r.create_pcs[0] = g->create_pcs[0];
  r.create_pcs[1] = g->create_pcs[1];
  if (g->stack != nullptr) {
    uintptr_t pcs[trace::kMaxFramesPerStack];
    const int n = trace::internal::CaptureStack(g, mp, /*skip=*/0, pcs);
    r.pcs.assign(pcs, pcs + n);
  }
  ResumeG(held);
  w.out->push_back(std::move(r));
}

void VisitBatchOnSchedulerStack(void* arg) {
  auto* w = static_cast<DumpWork*>(arg);
  const M* mp = runtime_internal::CurrentM();
  for (G* g : w->batch) Visit(g, mp, *w);
}

// The next batch of allgs from index `*next` (allgs only grows while Run runs).
bool NextBatch(Sched* s, size_t* next, std::vector<G*>* batch) {
  batch->clear();
  base_internal::OsMutexLock lock(&s->allg_mu);
  const size_t end = std::min(s->allgs.size(), *next + kBatchGoroutines);
  if (*next >= end) return false;
  batch->assign(s->allgs.begin() + static_cast<ptrdiff_t>(*next),
                s->allgs.begin() + static_cast<ptrdiff_t>(end));
  *next = end;
  return true;
}

// "N minutes" as Go prints it from one minute on; seconds below.
std::string WaitText(absl::Duration waited) {
  if (waited >= absl::Minutes(1)) {
    return absl::StrCat(absl::ToInt64Minutes(waited), " minutes");
  }
  return absl::StrFormat("%.1fs", absl::ToDoubleSeconds(waited));
}

// Whether a symbolised frame is goro::Go itself (a template: inlined into the creator in
// optimised builds, a function of its own otherwise).
bool IsGoroGo(const symbolize::Frame& f) {
  return absl::StartsWith(f.function, "goro::Go<") || absl::StartsWith(f.function, "void goro::Go<");
}

// SymbolizeReturnAddressInlined off the goroutine's stack: libdw's lookups and the
// demangler need tens of KiB of stack, more than a goroutine may have (RunOptions::
// stack_bytes; a 64 KiB goroutine overflowed here), so a goroutine symbolises on its M's
// scheduler stack, as Go prints tracebacks on the system stack. Called on a thread that
// runs no goroutine, it symbolises in place.
std::vector<symbolize::Frame> SymbolizeOffGoroutineStack(uintptr_t pc) {
  if (runtime_internal::CurrentG() == nullptr) return symbolize::SymbolizeReturnAddressInlined(pc);
  struct Call {
    uintptr_t pc;
    std::vector<symbolize::Frame> frames;
  } call{pc, {}};
  runtime_internal::CallOnSchedulerStack(
      [](void* p) {
        auto* c = static_cast<Call*>(p);
        c->frames = symbolize::SymbolizeReturnAddressInlined(c->pc);
      },
      &call);
  return std::move(call.frames);
}

}  // namespace

absl::StatusOr<std::vector<GoroutineRecord>> SnapshotGoroutines() {
  Sched* s = runtime_internal::sched();
  if (s == nullptr) {
    return absl::FailedPreconditionError("goroutine dump: goro::Run is not running");
  }
  std::vector<GoroutineRecord> out;
  DumpWork w;
  w.out = &out;
  w.self = runtime_internal::CurrentG();
  w.now = runtime_internal::NanoTime();
  size_t next = 0;
  if (w.self != nullptr) {
    // A goroutine may not suspend others while Running (SuspendG's rule): each batch runs
    // on the scheduler stack with this goroutine Waiting for "goroutine dump"; between
    // batches it yields, so others queued on this P are not held up by the whole dump.
    w.batch.push_back(w.self);
    runtime_internal::CallOnSchedulerStackWaitingForGC(WaitReason::kGoroutineDump,
                                                       VisitBatchOnSchedulerStack, &w);
    while (NextBatch(s, &next, &w.batch)) {
      w.batch.erase(std::remove(w.batch.begin(), w.batch.end(), w.self), w.batch.end());
      runtime_internal::CallOnSchedulerStackWaitingForGC(WaitReason::kGoroutineDump,
                                                         VisitBatchOnSchedulerStack, &w);
      runtime_internal::Yield();
    }
  } else {
    const M* mp = runtime_internal::CurrentM();
    while (NextBatch(s, &next, &w.batch)) {
      for (G* g : w.batch) Visit(g, mp, w);
    }
  }
  return out;
}

std::string FormatGoroutines(const std::vector<GoroutineRecord>& records) {
  std::string out;
  // Goroutines share most of their frames: each distinct PC is symbolised and printed once,
  // and each distinct creation site once (at 100,000 goroutines, formatting every frame
  // anew took ten times as long as appending cached text). Every PC is looked up one byte
  // back (inside the call, or the instruction before an interrupted one), and code inlined
  // there shows as frames of its own, as in Go's tracebacks.
  absl::flat_hash_map<uintptr_t, std::vector<symbolize::Frame>> frames_cache;
  auto frames_of = [&frames_cache](uintptr_t pc) -> const std::vector<symbolize::Frame>& {
    auto [it, inserted] = frames_cache.try_emplace(pc);
    if (inserted) it->second = SymbolizeOffGoroutineStack(pc);
    return it->second;
  };
  absl::flat_hash_map<uintptr_t, std::string> text_cache;
  auto text_of = [&](uintptr_t pc) -> const std::string& {
    auto [it, inserted] = text_cache.try_emplace(pc);
    if (inserted) it->second = symbolize::FormatFrames(frames_of(pc));
    return it->second;
  };
  // "created by": the creation site's frames outside goro::Go, from the first of
  // G::create_pcs that has any. Cached per pair as (function, "\n\tfile:line ...") text;
  // an empty function means no site.
  absl::flat_hash_map<std::pair<uintptr_t, uintptr_t>, std::pair<std::string, std::string>>
      site_cache;
  auto site_of = [&](const GoroutineRecord& r) -> const std::pair<std::string, std::string>& {
    auto [it, inserted] = site_cache.try_emplace(std::make_pair(r.create_pcs[0], r.create_pcs[1]));
    if (!inserted) return it->second;
    for (uintptr_t pc : r.create_pcs) {
      if (pc == 0) continue;
      for (const symbolize::Frame& f : frames_of(pc)) {
        if (IsGoroGo(f)) continue;
        // Go's shape: the function on the "created by" line, its location on the next.
        const std::string frame = symbolize::FormatFrame(f);
        it->second = {f.function, frame.substr(frame.find('\n'))};
        return it->second;
      }
    }
    return it->second;
  };
  // The text of 100,000 goroutines runs to about 100 MB: reserve it once from the cached
  // pieces (an upper bound for the headers) rather than growing by doubling, which copied
  // the text again at every step and took most of the time.
  size_t bytes = 0;
  for (const GoroutineRecord& r : records) {
    bytes += 96 + r.state.size();
    for (uintptr_t pc : r.pcs) bytes += text_of(pc).size();
    const auto& [function, location] = site_of(r);
    bytes += function.size() + location.size();
  }
  out.reserve(bytes);
  for (const GoroutineRecord& r : records) {
    if (!out.empty()) out += '\n';
    absl::StrAppend(&out, "goroutine ", r.id, " [", r.state);
    if (r.waited > absl::ZeroDuration()) absl::StrAppend(&out, ", ", WaitText(r.waited));
    if (r.locked_to_thread) out += ", locked to thread";
    out += "]:\n";
    for (uintptr_t pc : r.pcs) out += text_of(pc);
    if (r.pcs.empty()) out += "(no stack)\n";
    const auto& [function, location] = site_of(r);
    if (!function.empty()) {
      absl::StrAppend(&out, "created by ", function);
      if (r.parent_id != 0) absl::StrAppend(&out, " in goroutine ", r.parent_id);
      absl::StrAppend(&out, location, "\n");
    }
  }
  return out;
}

std::string GoroutineDump() {
  absl::StatusOr<std::vector<GoroutineRecord>> records = SnapshotGoroutines();
  if (!records.ok()) return absl::StrCat("goro: ", records.status().message(), "\n");
  return FormatGoroutines(*records);
}

}  // namespace goro::diag

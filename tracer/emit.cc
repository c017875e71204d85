// Event emission (emit.h): acquire/release, per-thread buffers, lazy statuses, stack
// capture by frame pointers with the ownership check.

#include "tracer/emit.h"

#include <sched.h>

#include <cstring>
#include <memory>

#include "absl/base/attributes.h"
#include "base/fatal.h"
#include "runtime/g.h"
#include "runtime/g_status.h"
#include "runtime/m.h"
#include "runtime/p.h"
#include "runtime/settings.h"
#include "runtime/stack.h"
#include "tracer/asymmetric_fence.h"
#include "tracer/ownership.h"
#include "tracer/state.h"

namespace goro::trace::internal {

using runtime_internal::TraceThreadState;

std::atomic<uint64_t> g_gen{0};

namespace {

std::atomic<bool> g_old_order{false};

GoStatus ToFormat(TraceGoStatus ts) { return static_cast<GoStatus>(ts); }

}  // namespace

uint64_t TraceMId(const M* m) { return static_cast<uint64_t>(m->id) + 1; }

TracerState& State() {
  static TracerState* state = new TracerState();
  return *state;
}

void SetOldOrderForTest(bool on) { g_old_order.store(on, std::memory_order_relaxed); }
bool OldOrderForTest() { return g_old_order.load(std::memory_order_relaxed); }

TraceBuf* NewBuf(uint64_t gen, uint64_t m, int64_t base_time) {
  TraceBuf* buf = nullptr;
  {
    base_internal::OsMutexLock lock(&State().full_mu);
    if (!State().free.empty()) {
      buf = State().free.back();
      State().free.pop_back();
    }
  }
  // Default-initialised, not value-initialised: `new TraceBuf()` would clear 64 KiB.
  if (buf == nullptr) buf = new TraceBuf;
  buf->gen = gen;
  buf->m = m;
  buf->len = 0;
  std::memset(buf->stack_cache, 0, sizeof(buf->stack_cache));
  buf->base_time = buf->last_time = base_time;
  return buf;
}

void RecycleBuf(TraceBuf* buf) {
  {
    base_internal::OsMutexLock lock(&State().full_mu);
    if (State().free.size() < kMaxFreeBufs) {
      State().free.push_back(buf);
      return;
    }
  }
  delete buf;
}

TraceBuf* TakeBuffer(TraceThreadState* ts, uint64_t gen) {
  void*& slot = ts->buf[gen % 2];
  auto* buf = static_cast<TraceBuf*>(slot);
  if (buf != nullptr && buf->gen != gen) return nullptr;
  slot = nullptr;
  return buf;
}

void EventBracket::Acquire() {
  M* m = runtime_internal::CurrentM();
  if (m != nullptr) {
    ts_ = &m->trace;
    m_id_ = TraceMId(m);
  } else {
    State().orphan_mu.Lock();
    ts_ = &State().orphan;
    m_id_ = kNoMId;
  }
  m_ = m;
  const uint64_t seq = ts_->seqlock.load(std::memory_order_relaxed);
  if (seq % 2 != 0) {
    // Already inside a window on this thread: join it (same generation, one release).
    nested_ = true;
    gen_ = ts_->window_gen;
    opened_ = NowNs();
    return;
  }
  // Odd: inside a window. The odd seqlock must be visible to an advance that has stored
  // the next generation, or the load below must see that generation (Dekker's pattern):
  // with the asymmetric fence the advance's membarrier provides the ordering and this side
  // is a compiler barrier; without it, a locked add.
  if (ABSL_PREDICT_TRUE(g_light_acquire.load(std::memory_order_relaxed))) {
    ts_->seqlock.store(seq + 1, std::memory_order_relaxed);
    std::atomic_signal_fence(std::memory_order_seq_cst);
    gen_ = g_gen.load(std::memory_order_acquire);
  } else {
    ts_->seqlock.fetch_add(1, std::memory_order_seq_cst);
    gen_ = g_gen.load(std::memory_order_seq_cst);
  }
  ts_->window_gen = gen_;
  if (gen_ == 0) {
    Release();
    return;
  }
  opened_ = NowNs();
}

void EventBracket::Release() {
  if (nested_) {
    gen_ = 0;
    return;
  }
  // Only this thread writes its seqlock: a release store suffices to close the window.
  ts_->seqlock.store(ts_->seqlock.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  if (m_ == nullptr) State().orphan_mu.Unlock();
  gen_ = 0;
}

// The fast path of Buf(): this generation's buffer with room for one more event.
inline TraceBuf* EventBracket::Buf() {
  auto* buf = static_cast<TraceBuf*>(ts_->buf[gen_ % 2]);
  if (ABSL_PREDICT_TRUE(buf != nullptr && buf->gen == gen_ && buf->HasRoom(kMaxEventBytes))) {
    return buf;
  }
  return NextBuf();
}

ABSL_ATTRIBUTE_NOINLINE TraceBuf* EventBracket::NextBuf() {
  void*& slot = ts_->buf[gen_ % 2];
  auto* buf = static_cast<TraceBuf*>(slot);
  if (buf != nullptr) {
    // Full (or, defensively, left from an older generation): hand it to the writer.
    base_internal::OsMutexLock lock(&State().full_mu);
    State().full.push_back(buf);
  }
  // The batch's base must not be later than the next event's time (when_ or opened_).
  buf = NewBuf(gen_, m_id_, when_ != 0 ? when_ : opened_ != 0 ? opened_ : NowNs());
  slot = buf;
  return buf;
}

void EventBracket::Event(EventType type, std::initializer_list<uint64_t> args) {
  TraceBuf* buf = Buf();
  int64_t now;
  if (when_ != 0) {
    now = when_;
  } else if (opened_ != 0) {
    now = opened_;  // the first event of the window
    opened_ = 0;
  } else {
    now = NowNs();
  }
  buf->Event(type, now, args);
}

int64_t EventBracket::Now() const { return ok() ? NowNs() : 0; }

void EventBracket::EnsureGoStatus(G* g, GoStatus before) {
  uint64_t seen = g->trace_gen.load(std::memory_order_relaxed);
  if (seen == gen_) return;
  if (!g->trace_gen.compare_exchange_strong(seen, gen_, std::memory_order_acq_rel)) return;
  const bool on_m = before == GoStatus::kRunning || before == GoStatus::kSyscall;
  Event(kEvGoStatus, {static_cast<uint64_t>(g->id), on_m ? m_id_ : 0,
                      static_cast<uint64_t>(before)});
}

void EventBracket::EnsureCurrentGoStatus() {
  G* g = m_ != nullptr ? m_->curg.load(std::memory_order_relaxed) : runtime_internal::CurrentG();
  if (g == nullptr) return;
  // Already mentioned in this generation (the common case): nothing to compute.
  if (g->trace_gen.load(std::memory_order_relaxed) == gen_) return;
  const uint32_t status = ReadGStatus(g) & ~uint32_t{kGScan};
  if (status == kGDead || status == kGIdle) return;
  EnsureGoStatus(g, ToFormat(TraceStatusOf(status, g->wait_reason.load(std::memory_order_relaxed))));
}

void EventBracket::EnsureProcStatus(P* p, ProcStatus before) {
  uint64_t seen = p->trace_gen.load(std::memory_order_relaxed);
  if (seen == gen_) return;
  if (!p->trace_gen.compare_exchange_strong(seen, gen_, std::memory_order_acq_rel)) return;
  Event(kEvProcStatus, {static_cast<uint64_t>(p->id), static_cast<uint64_t>(before)});
}

void EventBracket::EnsureOwnProcStatus() {
  if (m_ == nullptr) return;
  P* p = m_->p.load(std::memory_order_relaxed);
  if (p == nullptr) p = m_->oldp;  // in a blocking call: the P it may get back
  if (p == nullptr) return;
  const bool in_syscall = m_->in_syscall.load(std::memory_order_relaxed);
  EnsureProcStatus(p, in_syscall ? ProcStatus::kSyscall : ProcStatus::kRunning);
}

ABSL_ATTRIBUTE_NOINLINE int CaptureStack(G* gp, const M* mp, int skip, uintptr_t* pcs) {
  if (debug::tracecheckstackownership.Get()) CheckStackOwnership(gp, mp);
  if (gp->stack == nullptr) return 0;
  const uintptr_t lo = gp->stack->lo();
  const uintptr_t hi = gp->stack->hi();
  // A frame record (saved frame pointer, return address) at fp is walkable when it lies
  // wholly inside [lo, hi) and is aligned: one unsigned compare covers both bounds.
  const uintptr_t last_record = hi - lo - 2 * sizeof(uintptr_t);
  auto walkable = [lo, last_record](uintptr_t fp) {
    return fp - lo <= last_record && fp % sizeof(uintptr_t) == 0;
  };
  int n = 0;
  uintptr_t fp;
  uintptr_t last_dropped = 0;
  bool more = true;
  const auto here = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  if (here - lo < hi - lo) {
    // On gp's own stack: start from this frame, dropping the first `skip` return addresses
    // (the caller's tracer frames; no copy on the event path).
    fp = here;
    for (int dropped = 0; dropped < skip; ++dropped) {
      const auto* frame = reinterpret_cast<const uintptr_t*>(fp);
      if (!walkable(fp) || frame[1] == 0) {
        more = false;
        break;
      }
      last_dropped = frame[1];
      const uintptr_t next = frame[0];
      if (next <= fp) {
        more = false;
        break;
      }
      fp = next;
    }
  } else {
    // gp is parked or suspended, or we are on its M's scheduler stack: start from its
    // saved context.
    const uintptr_t pc = gp->context.SavedPc();
    if (pc != 0) pcs[n++] = pc;
    fp = gp->context.SavedFramePointer();
  }
  // Walk the frame-pointer chain; every step is bounds-checked against gp's stack, and the
  // chain must move towards hi.
  while (more && n < static_cast<int>(kMaxFramesPerStack) && walkable(fp)) {
    const auto* frame = reinterpret_cast<const uintptr_t*>(fp);
    const uintptr_t ret = frame[1];
    if (ret == 0) break;
    pcs[n++] = ret;
    const uintptr_t next = frame[0];
    if (next <= fp) break;
    fp = next;
  }
  // A walk that found nothing past the dropped frames keeps the last of them.
  if (n == 0 && last_dropped != 0) pcs[n++] = last_dropped;
  return n;
}

ABSL_ATTRIBUTE_NOINLINE uint64_t EventBracket::Stack(G* gp) {
  if (gp == nullptr) {
    gp = m_ != nullptr ? m_->curg.load(std::memory_order_relaxed) : runtime_internal::CurrentG();
    if (gp == nullptr) return 0;
  }
  uintptr_t pcs[kMaxFramesPerStack];
  // Dropped when walking from here: the return into Stack and the one into the event
  // method that called it; the stack starts at the runtime site.
  const int n = CaptureStack(gp, m_, /*skip=*/2, pcs);
  return InternStack(pcs, n);
}

namespace {

// The stack cache's slot hash: a rotate-and-xor per frame (one cycle each, where a
// multiply per frame made a 4-cycle dependency chain), mixed by one multiply at the end.
// Only picks a slot: a hit is confirmed by comparing the frames.
uint64_t StackCacheHash(const uintptr_t* pcs, int n) {
  uint64_t h = static_cast<uint64_t>(n);
  for (int i = 0; i < n; ++i) h = ((h << 7) | (h >> 57)) ^ pcs[i];
  h *= 0x9e3779b97f4a7c15ULL;
  return h ^ (h >> 29);
}

bool SameFrames(const uintptr_t* a, const uintptr_t* b, int n) {
  for (int i = 0; i < n; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

}  // namespace

uint64_t EventBracket::InternStack(const uintptr_t* pcs, int n) {
  if (n <= 0) return 0;
  const uint64_t h = StackCacheHash(pcs, n);
  TraceBuf* buf = Buf();
  TraceBuf::StackCacheEntry& e = buf->stack_cache[h % TraceBuf::kStackCacheSize];
  const auto un = static_cast<uint64_t>(n);
  if (e.pcs != nullptr && e.hash == h && e.n == un && SameFrames(e.pcs, pcs, n)) {
    return e.id;
  }
  const uintptr_t* stored = nullptr;
  const uint64_t id = State().stacks[gen_ % 2].Intern(pcs, n, &stored);
  e = {h, stored, un, id};
  return id;
}

// --- Goroutines ---

void EventBracket::GoCreateSlow(G* newg, uintptr_t start_pc) {
  EnsureOwnProcStatus();
  EnsureCurrentGoStatus();
  const uint64_t stack = Stack(nullptr);
  const uint64_t start = State().stacks[gen_ % 2].Intern(&start_pc, 1);
  newg->trace_gen.store(gen_, std::memory_order_relaxed);  // GoCreate is its status
  Event(kEvGoCreate, {static_cast<uint64_t>(newg->id), stack, start});
}

void EventBracket::GoStartSlow(G* g) {
  EnsureOwnProcStatus();
  EnsureGoStatus(g, GoStatus::kRunnable);
  Event(kEvGoStart, {static_cast<uint64_t>(g->id)});
}

void EventBracket::GoStopSlow(StopReason reason) {
  EnsureOwnProcStatus();
  EnsureCurrentGoStatus();
  Event(kEvGoStop, {static_cast<uint64_t>(reason), Stack(nullptr)});
}

void EventBracket::GoBlockSlow(BlockReason reason) {
  EnsureOwnProcStatus();
  EnsureCurrentGoStatus();
  Event(kEvGoBlock, {static_cast<uint64_t>(reason), Stack(nullptr)});
}

void EventBracket::GoBlockPreemptedSlow(G* g) {
  EnsureOwnProcStatus();
  EnsureGoStatus(g, GoStatus::kRunning);
  Event(kEvGoBlock, {static_cast<uint64_t>(BlockReason::kPreempted), Stack(g)});
}

void EventBracket::GoUnblockSlow(G* g) {
  EnsureOwnProcStatus();
  EnsureCurrentGoStatus();
  // Rule 2 of DESIGN.md 4: g's lazily written status carries no stack.
  EnsureGoStatus(g, GoStatus::kWaiting);
  // The old order also captured the stack of the goroutine being unblocked.
  if (OldOrderForTest()) Stack(g);
  Event(kEvGoUnblock, {static_cast<uint64_t>(g->id), Stack(nullptr)});
}

void EventBracket::GoDestroySlow() {
  EnsureOwnProcStatus();
  EnsureCurrentGoStatus();
  Event(kEvGoDestroy, {});
}

void EventBracket::GoSyscallBeginSlow() {
  EnsureOwnProcStatus();
  G* g = m_ != nullptr ? m_->curg.load(std::memory_order_relaxed) : nullptr;
  if (g != nullptr) EnsureGoStatus(g, GoStatus::kRunning);
  Event(kEvGoSyscallBegin, {Stack(nullptr)});
}

void EventBracket::GoSyscallEndSlow() {
  // Called once M::in_syscall is clear, but the P is still in its blocking call.
  if (P* p = m_ != nullptr ? m_->p.load(std::memory_order_relaxed) : nullptr) {
    EnsureProcStatus(p, ProcStatus::kSyscall);
  }
  EnsureCurrentGoStatus();
  Event(kEvGoSyscallEnd, {});
}

void EventBracket::GoSyscallEndBlockedSlow() {
  EnsureCurrentGoStatus();
  Event(kEvGoSyscallEndBlocked, {});
}

// --- Procs ---

void EventBracket::ProcStartSlow(P* p) {
  EnsureProcStatus(p, ProcStatus::kIdle);
  Event(kEvProcStart, {static_cast<uint64_t>(p->id)});
}

void EventBracket::ProcStopSlow(P* p) {
  EnsureProcStatus(p, ProcStatus::kRunning);
  Event(kEvProcStop, {});
}

void EventBracket::ProcStealSlow(P* p, M* from, int64_t when) {
  // Both the lazy status and the steal carry the pre-CAS time (a buffer's times never go
  // backwards: an earlier `when` than its last event is clamped to it, which is still before
  // the CAS because that event came first on this thread).
  when_ = when;
  // The P is in a blocking call on `from`, not on this M (which may hold a P of its own).
  EnsureProcStatus(p, ProcStatus::kSyscallAbandoned);
  Event(kEvProcSteal, {static_cast<uint64_t>(p->id), from != nullptr ? TraceMId(from) : 0});
  when_ = 0;
}

// --- Stop-the-world and the collector ---

void EventBracket::STWBegin(STWKind kind) {
  if (!ok()) return;
  EnsureOwnProcStatus();
  EnsureCurrentGoStatus();
  Event(kEvSTWBegin, {static_cast<uint64_t>(kind), Stack(nullptr)});
}

void EventBracket::STWEnd() {
  if (!ok()) return;
  Event(kEvSTWEnd, {});
}

void EventBracket::GCBegin(uint64_t seq) {
  if (!ok()) return;
  EnsureCurrentGoStatus();
  Event(kEvGCBegin, {seq, Stack(nullptr)});
}

void EventBracket::GCEnd(uint64_t seq) {
  if (!ok()) return;
  Event(kEvGCEnd, {seq});
}

void EventBracket::StackShrink(G* g, uint64_t before, uint64_t after) {
  if (!ok()) return;
  Event(kEvStackShrink, {static_cast<uint64_t>(g->id), before, after});
}

// --- User annotations ---

void EventBracket::UserTaskBegin(uint64_t id, uint64_t parent, absl::string_view name) {
  if (!ok()) return;
  EnsureOwnProcStatus();
  EnsureCurrentGoStatus();
  const uint64_t name_id = State().strings[gen_ % 2].Intern(name);
  Event(kEvUserTaskBegin, {id, parent, name_id, Stack(nullptr)});
}

void EventBracket::UserTaskEnd(uint64_t id) {
  if (!ok()) return;
  EnsureOwnProcStatus();
  EnsureCurrentGoStatus();
  Event(kEvUserTaskEnd, {id, Stack(nullptr)});
}

void EventBracket::UserRegion(bool begin, uint64_t task, absl::string_view name) {
  if (!ok()) return;
  EnsureOwnProcStatus();
  EnsureCurrentGoStatus();
  const uint64_t name_id = State().strings[gen_ % 2].Intern(name);
  Event(begin ? kEvUserRegionBegin : kEvUserRegionEnd, {task, name_id, Stack(nullptr)});
}

void EventBracket::UserLog(uint64_t task, absl::string_view key, absl::string_view message) {
  if (!ok()) return;
  EnsureOwnProcStatus();
  EnsureCurrentGoStatus();
  const uint64_t key_id = State().strings[gen_ % 2].Intern(key);
  const uint64_t msg_id = State().strings[gen_ % 2].Intern(message);
  Event(kEvUserLog, {task, key_id, msg_id, Stack(nullptr)});
}

}  // namespace goro::trace::internal

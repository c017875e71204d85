// Event emission (emit.h): acquire/release, per-thread buffers, lazy statuses, stack
// capture by frame pointers with the ownership check.

#include "tracer/emit.h"

#include <sched.h>

#include <cstring>
#include <memory>

#include "absl/base/attributes.h"
#include "base/fatal.h"
#include "base/no_preempt.h"
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

int64_t BuffersOutstanding() { return State().bufs_out.load(std::memory_order_relaxed); }

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
  State().bufs_out.fetch_add(1, std::memory_order_relaxed);
  buf->gen = gen;
  buf->m = m;
  buf->len = 0;
  std::memset(buf->stack_cache, 0, sizeof(buf->stack_cache));
  buf->base_time = buf->last_time = base_time;
  return buf;
}

void RecycleBuf(TraceBuf* buf) {
  State().bufs_out.fetch_sub(1, std::memory_order_relaxed);
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

// Threads without an M share State().orphan under orphan_mu; this counts the windows this
// thread has open there, so that a nested open joins instead of locking again. (No
// goroutine runs on such a thread, so the thread-local cannot move under a switch.)
thread_local int t_orphan_windows = 0;

TraceThreadState* EventBracket::Open() {
  // No asynchronous preemption inside a window (base/no_preempt.h): a thread stopped with
  // its window open would stall the next generation advance, and the scheduler stack,
  // which writes events for the stopped goroutine, would join the half-written window.
  // Close lowers it again, on every path.
  base_internal::NoPreemptEnter();
  M* m = runtime_internal::CurrentM();
  TraceThreadState* w;
  if (m != nullptr) {
    w = &m->trace;
  } else {
    if (t_orphan_windows == 0) State().orphan_mu.Lock();
    w = &State().orphan;
    ++t_orphan_windows;
  }
  // Only the thread holding w (its M's thread, or the orphan_mu holder) writes its seqlock:
  // odd means that thread already has a window open.
  const uint64_t seq = w->seqlock.load(std::memory_order_relaxed);
  const bool joined = seq % 2 != 0;
  if (joined) {
    // Already inside a window on this thread: join it (same generation, one release).
    ++w->window_joined;
    w->window_opened = NowNs();
    return w;
  }
  // Odd: inside a window. The odd seqlock must be visible to an advance that has stored
  // the next generation, or the load below must see that generation (Dekker's pattern):
  // with the asymmetric fence the advance's membarrier provides the ordering and this side
  // is a compiler barrier; without it, a locked add.
  uint64_t gen;
  if (ABSL_PREDICT_TRUE(g_light_acquire.load(std::memory_order_relaxed))) {
    w->seqlock.store(seq + 1, std::memory_order_relaxed);
    std::atomic_signal_fence(std::memory_order_seq_cst);
    gen = g_gen.load(std::memory_order_acquire);
  } else {
    w->seqlock.fetch_add(1, std::memory_order_seq_cst);
    gen = g_gen.load(std::memory_order_seq_cst);
  }
  w->window_gen = gen;
  w->window_joined = 0;
  w->window_m = m;
  if (gen == 0) {
    Close(w);
    return nullptr;
  }
  w->window_when = 0;
  w->window_opened = NowNs();
  return w;
}

void EventBracket::Close(TraceThreadState* w) {
  const bool orphan = w->window_m == nullptr;
  if (orphan) --t_orphan_windows;
  if (w->window_joined > 0) {
    --w->window_joined;
    base_internal::NoPreemptExit();
    return;
  }
  // Only this thread writes its seqlock: a release store suffices to close the window.
  w->seqlock.store(w->seqlock.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  if (orphan) State().orphan_mu.Unlock();
  base_internal::NoPreemptExit();
}

namespace {

// Writer is the event-writing half of a window: its buffer, clock, lazy statuses and
// stacks. A Slow function builds one from the thread's window state on entry.
class Writer {
 public:
  explicit Writer(TraceThreadState* w)
      : w_(w),
        gen_(w->window_gen),
        m_(w->window_m),
        m_id_(m_ != nullptr ? TraceMId(m_) : kNoMId) {}

  uint64_t gen() const { return gen_; }
  M* m() const { return m_; }
  // While nonzero, the time events carry instead of the clock (ProcSteal).
  void set_when(int64_t when) { w_->window_when = when; }

  void Event(EventType type, std::initializer_list<uint64_t> args);
  // Lazy statuses: the first time a G or P appears in the generation. The Slow halves
  // run when the G or P has not been mentioned yet.
  void EnsureGoStatus(G* g, GoStatus before);
  void EnsureGoStatusSlow(G* g, GoStatus before);
  void EnsureCurrentGoStatus();
  void EnsureCurrentGoStatusSlow(G* g);
  void EnsureProcStatus(P* p, ProcStatus before);
  void EnsureProcStatusSlow(P* p, ProcStatus before);
  void EnsureOwnProcStatus();
  // Stack id of gp (null: the current context), after the ownership check. Called
  // directly by the Slow function that writes the event (its frame is the one dropped).
  uint64_t Stack(G* gp);

 private:
  // Room for one event in this generation's buffer (flushing a full one).
  TraceBuf* Buf();
  // Buf's slow path: hands a full buffer to the writer and starts a new one.
  TraceBuf* NextBuf();
  // Stack id of pcs[0..n), whose cache hash (CaptureStack) is `hash`: the buffer's stack
  // cache, else the generation's table.
  uint64_t InternStack(const uintptr_t* pcs, int n, uint64_t hash);

  TraceThreadState* w_;
  uint64_t gen_;
  M* m_;
  uint64_t m_id_;
};

}  // namespace

// The fast path of Buf(): this generation's buffer with room for one more event.
inline TraceBuf* Writer::Buf() {
  auto* buf = static_cast<TraceBuf*>(w_->buf[gen_ % 2]);
  if (ABSL_PREDICT_TRUE(buf != nullptr && buf->gen == gen_ && buf->HasRoom(kMaxEventBytes))) {
    return buf;
  }
  return NextBuf();
}

ABSL_ATTRIBUTE_NOINLINE TraceBuf* Writer::NextBuf() {
  void*& slot = w_->buf[gen_ % 2];
  auto* buf = static_cast<TraceBuf*>(slot);
  if (buf != nullptr) {
    // Full (or, defensively, left from an older generation): hand it to the writer.
    base_internal::OsMutexLock lock(&State().full_mu);
    State().full.push_back(buf);
  }
  // The batch's base must not be later than the next event's time (the stamp or the
  // window's opening read).
  const int64_t base = w_->window_when != 0     ? w_->window_when
                       : w_->window_opened != 0 ? w_->window_opened
                                                : NowNs();
  buf = NewBuf(gen_, m_id_, base);
  slot = buf;
  return buf;
}

// Inlined into every event method, so that each one's argument list is a constant and the
// encoding loop unrolls.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline void Writer::Event(
    EventType type, std::initializer_list<uint64_t> args) {
  TraceBuf* buf = Buf();
  int64_t now;
  if (w_->window_when != 0) {
    now = w_->window_when;
  } else if (w_->window_opened != 0) {
    now = w_->window_opened;  // the first event of the window
    w_->window_opened = 0;
  } else {
    now = NowNs();
  }
  buf->Event(type, now, args);
}

// The lazy statuses. Each Ensure* answers the common case (the G or P was already
// mentioned in this generation) inline with one load and compare; the rest is out of line.

ABSL_ATTRIBUTE_NOINLINE void Writer::EnsureGoStatusSlow(G* g, GoStatus before) {
  uint64_t seen = g->trace_gen.load(std::memory_order_relaxed);
  if (seen == gen_) return;
  if (!g->trace_gen.compare_exchange_strong(seen, gen_, std::memory_order_acq_rel)) return;
  const bool on_m = before == GoStatus::kRunning || before == GoStatus::kSyscall;
  Event(kEvGoStatus, {static_cast<uint64_t>(g->id), on_m ? m_id_ : 0,
                      static_cast<uint64_t>(before)});
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline void Writer::EnsureGoStatus(G* g, GoStatus before) {
  if (ABSL_PREDICT_FALSE(g->trace_gen.load(std::memory_order_relaxed) != gen_)) {
    EnsureGoStatusSlow(g, before);
  }
}

ABSL_ATTRIBUTE_NOINLINE void Writer::EnsureCurrentGoStatusSlow(G* g) {
  const uint32_t status = ReadGStatus(g) & ~uint32_t{kGScan};
  if (status == kGDead || status == kGIdle) return;
  EnsureGoStatusSlow(
      g, ToFormat(TraceStatusOf(status, g->wait_reason.load(std::memory_order_relaxed))));
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline void Writer::EnsureCurrentGoStatus() {
  G* g = m_ != nullptr ? m_->curg.load(std::memory_order_relaxed) : runtime_internal::CurrentG();
  if (g == nullptr) return;
  if (ABSL_PREDICT_FALSE(g->trace_gen.load(std::memory_order_relaxed) != gen_)) {
    EnsureCurrentGoStatusSlow(g);
  }
}

ABSL_ATTRIBUTE_NOINLINE void Writer::EnsureProcStatusSlow(P* p, ProcStatus before) {
  uint64_t seen = p->trace_gen.load(std::memory_order_relaxed);
  if (seen == gen_) return;
  if (!p->trace_gen.compare_exchange_strong(seen, gen_, std::memory_order_acq_rel)) return;
  Event(kEvProcStatus, {static_cast<uint64_t>(p->id), static_cast<uint64_t>(before)});
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline void Writer::EnsureProcStatus(P* p,
                                                                       ProcStatus before) {
  if (ABSL_PREDICT_FALSE(p->trace_gen.load(std::memory_order_relaxed) != gen_)) {
    EnsureProcStatusSlow(p, before);
  }
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline void Writer::EnsureOwnProcStatus() {
  if (m_ == nullptr) return;
  P* p = m_->p.load(std::memory_order_relaxed);
  if (p == nullptr) p = m_->oldp;  // in a blocking call: the P it may get back
  if (p == nullptr || ABSL_PREDICT_TRUE(p->trace_gen.load(std::memory_order_relaxed) == gen_)) {
    return;
  }
  const bool in_syscall = m_->in_syscall.load(std::memory_order_relaxed);
  EnsureProcStatusSlow(p, in_syscall ? ProcStatus::kSyscall : ProcStatus::kRunning);
}

namespace {

// The stack cache's slot hash (InternStack), folded while the frames are walked: a
// rotate-and-xor per frame, then the frame count and one multiply. Only picks a slot: a hit
// is confirmed by comparing the frames.
inline uint64_t FoldFrame(uint64_t h, uintptr_t pc) { return ((h << 7) | (h >> 57)) ^ pc; }
inline uint64_t FinishStackHash(uint64_t h, int n) {
  h = (h ^ static_cast<uint64_t>(n)) * 0x9e3779b97f4a7c15ULL;
  return h ^ (h >> 29);
}

bool SameFrames(const uintptr_t* a, const uintptr_t* b, int n) {
  for (int i = 0; i < n; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

}  // namespace

// CaptureStack's body, inlined into its two callers: `here` is the frame address of the
// function it was inlined into, from which `skip` return addresses are dropped.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline int WalkStack(G* gp, const M* mp, int skip, uintptr_t* pcs,
                                                  uint64_t* hash, uintptr_t here) {
  if (debug::tracecheckstackownership.Get()) CheckStackOwnership(gp, mp);
  if (gp->stack == nullptr) return 0;
  const uintptr_t lo = gp->stack->lo();
  const uintptr_t hi = gp->stack->hi();
  // A frame record (saved frame pointer, return address) at fp is walkable when it lies
  // wholly inside [lo, hi) and is aligned: one unsigned compare covers both bounds.
  const uintptr_t last_record = hi - lo - 2 * sizeof(uintptr_t);
  auto walkable = [lo, last_record](uintptr_t at) {
    return at - lo <= last_record && at % sizeof(uintptr_t) == 0;
  };
  uintptr_t* out = pcs;
  uintptr_t* const end = pcs + kMaxFramesPerStack;
  uint64_t h = 0;
  uintptr_t fp;
  uintptr_t last_dropped = 0;
  bool walk = true;
  if (here - lo < hi - lo) {
    // On gp's own stack: start from this frame, dropping the first `skip` return addresses
    // (the caller's tracer frames; no copy on the event path).
    fp = here;
    for (int dropped = 0; dropped < skip; ++dropped) {
      const auto* frame = reinterpret_cast<const uintptr_t*>(fp);
      if (!walkable(fp) || frame[1] == 0) {
        walk = false;
        break;
      }
      last_dropped = frame[1];
      const uintptr_t next = frame[0];
      if (next <= fp) {
        walk = false;
        break;
      }
      fp = next;
    }
  } else if ((ReadGStatus(gp) & ~uint32_t{kGScan}) == kGSyscall &&
             gp->m.load(std::memory_order_relaxed) != mp) {
    // gp is in a blocking call on another M and we hold its scan bit (a goroutine dump):
    // its saved context is stale; its frames start in the function that entered the call
    // (G::syscall_pc, a return address) and go on from that function's frame record
    // (G::syscall_fp), both constant until the call returns. (On gp's own M's scheduler
    // stack the saved context is the fresh one.)
    if (gp->syscall_pc != 0) {
      *out++ = gp->syscall_pc;
      h = FoldFrame(h, gp->syscall_pc);
    }
    fp = gp->syscall_fp;
  } else {
    // gp is parked or suspended, or we are on its M's scheduler stack: start from where it
    // stopped (its saved context, or the registers the preemption signal interrupted).
    const StoppedFrame stopped = StoppedFrameOf(gp);
    if (stopped.pc != 0) {
      *out++ = stopped.pc;
      h = FoldFrame(h, stopped.pc);
    }
    fp = stopped.fp;
  }
  if (walk) {
    // Walk the frame-pointer chain; every step is bounds-checked against gp's stack, and
    // the chain must move towards hi.
    while (out != end && walkable(fp)) {
      const auto* frame = reinterpret_cast<const uintptr_t*>(fp);
      const uintptr_t ret = frame[1];
      if (ret == 0) break;
      *out++ = ret;
      h = FoldFrame(h, ret);
      const uintptr_t next = frame[0];
      if (next <= fp) break;
      fp = next;
    }
  }
  // A walk that found nothing past the dropped frames keeps the last of them.
  if (out == pcs && last_dropped != 0) {
    *out++ = last_dropped;
    h = FoldFrame(h, last_dropped);
  }
  const auto n = static_cast<int>(out - pcs);
  if (hash != nullptr) *hash = FinishStackHash(h, n);
  return n;
}

ABSL_ATTRIBUTE_NOINLINE int CaptureStack(G* gp, const M* mp, int skip, uintptr_t* pcs,
                                         uint64_t* hash) {
  return WalkStack(gp, mp, skip, pcs, hash,
                   reinterpret_cast<uintptr_t>(__builtin_frame_address(0)));
}

// One function for the walk, the hash and the cache lookup (a single prologue).
ABSL_ATTRIBUTE_NOINLINE uint64_t Writer::Stack(G* gp) {
  if (gp == nullptr) {
    gp = m_ != nullptr ? m_->curg.load(std::memory_order_relaxed) : runtime_internal::CurrentG();
    if (gp == nullptr) return 0;
  }
  uintptr_t pcs[kMaxFramesPerStack];
  uint64_t hash = 0;
  // Walking from this frame, the one return address to drop is the one into the event
  // method that called Stack; the stack starts at the runtime site.
  const int n = WalkStack(gp, m_, /*skip=*/1, pcs, &hash,
                          reinterpret_cast<uintptr_t>(__builtin_frame_address(0)));
  return InternStack(pcs, n, hash);
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline uint64_t Writer::InternStack(const uintptr_t* pcs,
                                                                       int n, uint64_t h) {
  if (n <= 0) return 0;
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

void EventBracket::GoCreateSlow(TraceThreadState* w, G* newg, uintptr_t start_pc) {
  Writer t(w);
  t.EnsureOwnProcStatus();
  t.EnsureCurrentGoStatus();
  const uint64_t stack = t.Stack(nullptr);
  // Stack tables hold return addresses, which are symbolised at pc - 1 (the call
  // instruction). A start PC is a function's first instruction, so it is stored one byte
  // further, as Go's traceGoCreate adds sys.PCQuantum, to symbolise to that function and
  // not to the one before it.
  const uintptr_t start_ret = start_pc + 1;
  const uint64_t start = State().stacks[t.gen() % 2].Intern(&start_ret, 1);
  newg->trace_gen.store(t.gen(), std::memory_order_relaxed);  // GoCreate is its status
  t.Event(kEvGoCreate, {static_cast<uint64_t>(newg->id), stack, start});
}

void EventBracket::GoStartSlow(TraceThreadState* w, G* g) {
  Writer t(w);
  t.EnsureOwnProcStatus();
  t.EnsureGoStatus(g, GoStatus::kRunnable);
  t.Event(kEvGoStart, {static_cast<uint64_t>(g->id)});
}

void EventBracket::GoStopSlow(TraceThreadState* w, StopReason reason) {
  Writer t(w);
  t.EnsureOwnProcStatus();
  t.EnsureCurrentGoStatus();
  t.Event(kEvGoStop, {static_cast<uint64_t>(reason), t.Stack(nullptr)});
}

void EventBracket::GoBlockSlow(TraceThreadState* w, BlockReason reason) {
  Writer t(w);
  t.EnsureOwnProcStatus();
  t.EnsureCurrentGoStatus();
  t.Event(kEvGoBlock, {static_cast<uint64_t>(reason), t.Stack(nullptr)});
}

void EventBracket::GoBlockPreemptedSlow(TraceThreadState* w, G* g) {
  Writer t(w);
  t.EnsureOwnProcStatus();
  t.EnsureGoStatus(g, GoStatus::kRunning);
  t.Event(kEvGoBlock, {static_cast<uint64_t>(BlockReason::kPreempted), t.Stack(g)});
}

void EventBracket::GoUnblockSlow(TraceThreadState* w, G* g) {
  Writer t(w);
  t.EnsureOwnProcStatus();
  t.EnsureCurrentGoStatus();
  // Rule 2 of DESIGN.md 4: g's lazily written status carries no stack.
  t.EnsureGoStatus(g, GoStatus::kWaiting);
  // The old order also captured the stack of the goroutine being unblocked.
  if (OldOrderForTest()) t.Stack(g);
  t.Event(kEvGoUnblock, {static_cast<uint64_t>(g->id), t.Stack(nullptr)});
}

void EventBracket::GoDestroySlow(TraceThreadState* w) {
  Writer t(w);
  t.EnsureOwnProcStatus();
  t.EnsureCurrentGoStatus();
  t.Event(kEvGoDestroy, {});
}

void EventBracket::GoSyscallBeginSlow(TraceThreadState* w) {
  Writer t(w);
  t.EnsureOwnProcStatus();
  G* g = t.m() != nullptr ? t.m()->curg.load(std::memory_order_relaxed) : nullptr;
  if (g != nullptr) t.EnsureGoStatus(g, GoStatus::kRunning);
  t.Event(kEvGoSyscallBegin, {t.Stack(nullptr)});
}

void EventBracket::GoSyscallEndSlow(TraceThreadState* w) {
  Writer t(w);
  // Called once M::in_syscall is clear, but the P is still in its blocking call.
  if (P* p = t.m() != nullptr ? t.m()->p.load(std::memory_order_relaxed) : nullptr) {
    t.EnsureProcStatus(p, ProcStatus::kSyscall);
  }
  t.EnsureCurrentGoStatus();
  t.Event(kEvGoSyscallEnd, {});
}

void EventBracket::GoSyscallEndBlockedSlow(TraceThreadState* w) {
  Writer t(w);
  t.EnsureCurrentGoStatus();
  t.Event(kEvGoSyscallEndBlocked, {});
}

// --- Procs ---

void EventBracket::ProcStartSlow(TraceThreadState* w, P* p) {
  Writer t(w);
  t.EnsureProcStatus(p, ProcStatus::kIdle);
  t.Event(kEvProcStart, {static_cast<uint64_t>(p->id)});
}

void EventBracket::ProcStopSlow(TraceThreadState* w, P* p) {
  Writer t(w);
  t.EnsureProcStatus(p, ProcStatus::kRunning);
  t.Event(kEvProcStop, {});
}

void EventBracket::ProcStealSlow(TraceThreadState* w, P* p, M* from, int64_t when) {
  Writer t(w);
  // Both the lazy status and the steal carry the pre-CAS time (a buffer's times never go
  // backwards: an earlier `when` than its last event is clamped to it, which is still before
  // the CAS because that event came first on this thread).
  t.set_when(when);
  // The P is in a blocking call on `from`, not on this M (which may hold a P of its own).
  t.EnsureProcStatus(p, ProcStatus::kSyscallAbandoned);
  t.Event(kEvProcSteal, {static_cast<uint64_t>(p->id), from != nullptr ? TraceMId(from) : 0});
  t.set_when(0);
}

// --- Stop-the-world and the collector ---

void EventBracket::STWBeginSlow(TraceThreadState* w, STWKind kind) {
  Writer t(w);
  t.EnsureOwnProcStatus();
  t.EnsureCurrentGoStatus();
  t.Event(kEvSTWBegin, {static_cast<uint64_t>(kind), t.Stack(nullptr)});
}

void EventBracket::STWEndSlow(TraceThreadState* w) {
  Writer t(w);
  t.Event(kEvSTWEnd, {});
}

void EventBracket::GCBeginSlow(TraceThreadState* w, uint64_t seq) {
  Writer t(w);
  t.EnsureCurrentGoStatus();
  t.Event(kEvGCBegin, {seq, t.Stack(nullptr)});
}

void EventBracket::GCEndSlow(TraceThreadState* w, uint64_t seq) {
  Writer t(w);
  t.Event(kEvGCEnd, {seq});
}

void EventBracket::StackShrinkSlow(TraceThreadState* w, G* g, uint64_t before, uint64_t after) {
  Writer t(w);
  t.Event(kEvStackShrink, {static_cast<uint64_t>(g->id), before, after});
}

// --- User annotations ---

void EventBracket::UserTaskBeginSlow(TraceThreadState* w, uint64_t id, uint64_t parent,
                                     absl::string_view name) {
  Writer t(w);
  t.EnsureOwnProcStatus();
  t.EnsureCurrentGoStatus();
  const uint64_t name_id = State().strings[t.gen() % 2].Intern(name);
  t.Event(kEvUserTaskBegin, {id, parent, name_id, t.Stack(nullptr)});
}

void EventBracket::UserTaskEndSlow(TraceThreadState* w, uint64_t id) {
  Writer t(w);
  t.EnsureOwnProcStatus();
  t.EnsureCurrentGoStatus();
  t.Event(kEvUserTaskEnd, {id, t.Stack(nullptr)});
}

void EventBracket::UserRegionSlow(TraceThreadState* w, bool begin, uint64_t task,
                                  absl::string_view name) {
  Writer t(w);
  t.EnsureOwnProcStatus();
  t.EnsureCurrentGoStatus();
  const uint64_t name_id = State().strings[t.gen() % 2].Intern(name);
  t.Event(begin ? kEvUserRegionBegin : kEvUserRegionEnd, {task, name_id, t.Stack(nullptr)});
}

void EventBracket::UserLogSlow(TraceThreadState* w, uint64_t task, absl::string_view key,
                               absl::string_view message) {
  Writer t(w);
  t.EnsureOwnProcStatus();
  t.EnsureCurrentGoStatus();
  const uint64_t key_id = State().strings[t.gen() % 2].Intern(key);
  const uint64_t msg_id = State().strings[t.gen() % 2].Intern(message);
  t.Event(kEvUserLog, {task, key_id, msg_id, t.Stack(nullptr)});
}

}  // namespace goro::trace::internal

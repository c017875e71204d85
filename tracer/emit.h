// Event emission for the runtime's trace sites (Go's traceLocker and its event methods).
//
// Every site opens an EventBracket (Go's traceAcquire ... traceRelease) around both the
// status change it reports and the event, so that a generation advance sees either both or
// neither. Inside the bracket the rule of DESIGN.md 4 applies: an event that captures the
// current goroutine's stack is written *before* the status CAS that gives the stack away
// (GoStop, GoBlock), and the stack of a goroutine being unblocked is never captured.
// When tracing is off, opening a bracket costs one relaxed load and every method returns
// at once. The inline methods are always inlined, in every build mode, so that a stack
// captured through them starts at the runtime site (no tracer frame in it).

#ifndef GORO_TRACER_EMIT_H_
#define GORO_TRACER_EMIT_H_

#include <atomic>
#include <cstdint>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/strings/string_view.h"
#include "tracer/clock.h"
#include "tracer/format.h"

namespace goro {
struct G;
struct M;
struct P;
namespace runtime_internal {
struct TraceThreadState;
}

namespace trace::internal {

struct TraceBuf;

// The current generation; 0 while tracing is off (Go's trace.gen).
extern std::atomic<uint64_t> g_gen;

// internal::TracingOn: a hint (may be stale for a moment around Start and Stop).
// Building with GORO_TRACE_COMPILED_OUT (bazel --config=notrace) makes it a constant false,
// so every site's bracket is dead code: the baseline the tracer's off-cost is measured
// against (bench/trace_overhead.sh). Start then fails with Unimplemented.
#ifdef GORO_TRACE_COMPILED_OUT
constexpr bool TracingOn() { return false; }
#else
inline bool TracingOn() { return g_gen.load(std::memory_order_relaxed) != 0; }
#endif

// internal::EventBracket is one acquire/release window on the calling thread.
//
// The bracket itself is one pointer, to the thread's window state (its M's
// TraceThreadState), null while tracing is off. Nothing else lives in the object and its
// address is never passed on, so the compiler keeps the pointer in a register: with
// tracing off a site costs the relaxed load and one branch in the constructor, and the
// method and destructor tests fold into that branch.
class EventBracket {
 public:
  EventBracket() {
    if (ABSL_PREDICT_FALSE(TracingOn())) w_ = Open();
  }
  ~EventBracket() {
    if (ABSL_PREDICT_FALSE(w_ != nullptr)) Close(w_);
  }
  // Brackets nest: one opened while another is open on the same thread joins it.
  EventBracket(const EventBracket&) = delete;
  EventBracket& operator=(const EventBracket&) = delete;

  // Whether events written through this bracket go into a trace.
  bool ok() const { return w_ != nullptr; }
  // The trace clock while this bracket is ok(), else 0.
  int64_t Now() const { return ok() ? NowNs() : 0; }

  // --- Goroutines. "The current G" is the M's curg (or the thread's G). ---
  // newg was created (Dead -> Runnable) by the current context; start_pc is its function.
  ABSL_ATTRIBUTE_ALWAYS_INLINE void GoCreate(G* newg, uintptr_t start_pc) {
    if (ABSL_PREDICT_FALSE(ok())) GoCreateSlow(w_, newg, start_pc);
  }
  // This M now runs g; `g` was Runnable before (Execute, after the CAS).
  ABSL_ATTRIBUTE_ALWAYS_INLINE void GoStart(G* g) {
    if (ABSL_PREDICT_FALSE(ok())) GoStartSlow(w_, g);
  }
  // The current G is about to become Runnable. Before the CAS.
  ABSL_ATTRIBUTE_ALWAYS_INLINE void GoStop(StopReason reason) {
    if (ABSL_PREDICT_FALSE(ok())) GoStopSlow(w_, reason);
  }
  // The current G is about to become Waiting. Before the CAS.
  ABSL_ATTRIBUTE_ALWAYS_INLINE void GoBlock(BlockReason reason) {
    if (ABSL_PREDICT_FALSE(ok())) GoBlockSlow(w_, reason);
  }
  // g stopped at a safe point for SuspendG; the caller holds g's scan bit.
  ABSL_ATTRIBUTE_ALWAYS_INLINE void GoBlockPreempted(G* g) {
    if (ABSL_PREDICT_FALSE(ok())) GoBlockPreemptedSlow(w_, g);
  }
  // g went Waiting -> Runnable (after the CAS). Its status, if first seen, has no stack.
  ABSL_ATTRIBUTE_ALWAYS_INLINE void GoUnblock(G* g) {
    if (ABSL_PREDICT_FALSE(ok())) GoUnblockSlow(w_, g);
  }
  // The current G finished. Before the CAS to Dead.
  ABSL_ATTRIBUTE_ALWAYS_INLINE void GoDestroy() {
    if (ABSL_PREDICT_FALSE(ok())) GoDestroySlow(w_);
  }
  // The current G entered a blocking call (after the CAS to Syscall).
  ABSL_ATTRIBUTE_ALWAYS_INLINE void GoSyscallBegin() {
    if (ABSL_PREDICT_FALSE(ok())) GoSyscallBeginSlow(w_);
  }
  // The current G returns from its blocking call with its P (before the CAS).
  ABSL_ATTRIBUTE_ALWAYS_INLINE void GoSyscallEnd() {
    if (ABSL_PREDICT_FALSE(ok())) GoSyscallEndSlow(w_);
  }
  // The current G returns from its blocking call after losing its P.
  ABSL_ATTRIBUTE_ALWAYS_INLINE void GoSyscallEndBlocked() {
    if (ABSL_PREDICT_FALSE(ok())) GoSyscallEndBlockedSlow(w_);
  }

  // --- Procs ---
  ABSL_ATTRIBUTE_ALWAYS_INLINE void ProcStart(P* p) {
    if (ABSL_PREDICT_FALSE(ok())) ProcStartSlow(w_, p);
  }
  ABSL_ATTRIBUTE_ALWAYS_INLINE void ProcStop(P* p) {
    if (ABSL_PREDICT_FALSE(ok())) ProcStopSlow(w_, p);
  }
  // `when`: the trace clock (Now()) read before the CAS that took the P; see
  // runtime/trace_hooks.h for why the steal must be stamped before it.
  ABSL_ATTRIBUTE_ALWAYS_INLINE void ProcSteal(P* p, M* from, int64_t when) {
    if (ABSL_PREDICT_FALSE(ok())) ProcStealSlow(w_, p, from, when);
  }

  // --- Stop-the-world and the collector ---
  ABSL_ATTRIBUTE_ALWAYS_INLINE void STWBegin(STWKind kind) {
    if (ok()) STWBeginSlow(w_, kind);
  }
  ABSL_ATTRIBUTE_ALWAYS_INLINE void STWEnd() {
    if (ok()) STWEndSlow(w_);
  }
  ABSL_ATTRIBUTE_ALWAYS_INLINE void GCBegin(uint64_t seq) {
    if (ok()) GCBeginSlow(w_, seq);
  }
  ABSL_ATTRIBUTE_ALWAYS_INLINE void GCEnd(uint64_t seq) {
    if (ok()) GCEndSlow(w_, seq);
  }
  ABSL_ATTRIBUTE_ALWAYS_INLINE void StackShrink(G* g, uint64_t before, uint64_t after) {
    if (ok()) StackShrinkSlow(w_, g, before, after);
  }

  // --- User annotations ---
  ABSL_ATTRIBUTE_ALWAYS_INLINE void UserTaskBegin(uint64_t id, uint64_t parent, absl::string_view name) {
    if (ok()) UserTaskBeginSlow(w_, id, parent, name);
  }
  ABSL_ATTRIBUTE_ALWAYS_INLINE void UserTaskEnd(uint64_t id) {
    if (ok()) UserTaskEndSlow(w_, id);
  }
  ABSL_ATTRIBUTE_ALWAYS_INLINE void UserRegion(bool begin, uint64_t task, absl::string_view name) {
    if (ok()) UserRegionSlow(w_, begin, task, name);
  }
  ABSL_ATTRIBUTE_ALWAYS_INLINE void UserLog(uint64_t task, absl::string_view key, absl::string_view message) {
    if (ok()) UserLogSlow(w_, task, key, message);
  }

 private:
  using Window = runtime_internal::TraceThreadState;

  // Opens (or joins) the calling thread's window; null when tracing turned out to be off.
  // Marked cold so that the sites' untraced paths are laid out and register-allocated for
  // the common case (measured: 3 fewer instructions per yield with tracing off). The Slow
  // functions are not: cold also means optimised for size, which cost the traced
  // ping-pong about 6%.
  ABSL_ATTRIBUTE_COLD static Window* Open();
  ABSL_ATTRIBUTE_COLD static void Close(Window* w);

  // The out-of-line halves of the methods above (tracer/emit.cc): a site pays only the
  // ok() test while tracing is off.
  static void GoCreateSlow(Window* w, G* newg, uintptr_t start_pc);
  static void GoStartSlow(Window* w, G* g);
  static void GoStopSlow(Window* w, StopReason reason);
  static void GoBlockSlow(Window* w, BlockReason reason);
  static void GoBlockPreemptedSlow(Window* w, G* g);
  static void GoUnblockSlow(Window* w, G* g);
  static void GoDestroySlow(Window* w);
  static void GoSyscallBeginSlow(Window* w);
  static void GoSyscallEndSlow(Window* w);
  static void GoSyscallEndBlockedSlow(Window* w);
  static void ProcStartSlow(Window* w, P* p);
  static void ProcStopSlow(Window* w, P* p);
  static void ProcStealSlow(Window* w, P* p, M* from, int64_t when);
  static void STWBeginSlow(Window* w, STWKind kind);
  static void STWEndSlow(Window* w);
  static void GCBeginSlow(Window* w, uint64_t seq);
  static void GCEndSlow(Window* w, uint64_t seq);
  static void StackShrinkSlow(Window* w, G* g, uint64_t before, uint64_t after);
  static void UserTaskBeginSlow(Window* w, uint64_t id, uint64_t parent, absl::string_view name);
  static void UserTaskEndSlow(Window* w, uint64_t id);
  static void UserRegionSlow(Window* w, bool begin, uint64_t task, absl::string_view name);
  static void UserLogSlow(Window* w, uint64_t task, absl::string_view key,
                          absl::string_view message);

  Window* w_ = nullptr;
};

// internal::TraceMId is an M's id in the trace: the runtime's id plus one, because the
// format keeps m 0 for the structural batches and M0's runtime id is 0.
uint64_t TraceMId(const M* m);

// internal::CaptureStack walks gp's frame pointers into pcs[0..kMaxFramesPerStack) and
// returns the number of frames, after the ownership check when tracecheckstackownership
// is on (`mp` is the calling M, null for a thread without one). It starts from the current
// frame when running on gp's own stack, dropping the first `skip` return addresses (the
// caller's tracer frames), and otherwise from gp's saved context; every step is
// bounds-checked against gp's stack. When `hash` is not null it receives the frames'
// stack-cache hash (folded during the walk, so the cache needs no second pass). The walk
// ends at kMaxFramesPerStack frames, at a zero return address, at a frame record outside
// gp's stack or misaligned, or when the chain stops moving towards the stack's top.
// Preconditions: the caller owns gp's stack (the check's rule); gp is not Dead.
// Thread safety: as the precondition.
int CaptureStack(G* gp, const M* mp, int skip, uintptr_t* pcs, uint64_t* hash = nullptr);

// internal::SetOldOrderForTest re-creates the order Go had before its commit d6a3d093
// ("runtime: take a stack trace during tracing only when we own the stack"), for the
// regression tests: GoBlock written after the status change, and the stack of a goroutine
// being unblocked captured. With tracecheckstackownership=1 both abort.
void SetOldOrderForTest(bool on);
bool OldOrderForTest();

// trace::internal::BuffersOutstanding returns how many trace buffers are held by threads
// or queued for writing (handed out and not yet recycled): 0 whenever no trace is running,
// which the tests' teardown checks. Thread safety: thread-safe (one relaxed load).
int64_t BuffersOutstanding();

}  // namespace trace::internal
}  // namespace goro

#endif  // GORO_TRACER_EMIT_H_

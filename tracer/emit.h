// Event emission for the runtime's trace sites (Go's traceLocker and its event methods).
//
// Every site opens an EventBracket (Go's traceAcquire ... traceRelease) around both the
// status change it reports and the event, so that a generation advance sees either both or
// neither. Inside the bracket the rule of DESIGN.md 4 applies: an event that captures the
// current goroutine's stack is written *before* the status CAS that gives the stack away
// (GoStop, GoBlock), and the stack of a goroutine being unblocked is never captured.
// When tracing is off, opening a bracket costs one relaxed load and every method returns
// at once.

#ifndef GORO_TRACER_EMIT_H_
#define GORO_TRACER_EMIT_H_

#include <atomic>
#include <cstdint>

#include "absl/base/optimization.h"
#include "absl/strings/string_view.h"
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
class EventBracket {
 public:
  EventBracket() {
    if (ABSL_PREDICT_FALSE(TracingOn())) Acquire();
  }
  ~EventBracket() {
    if (ABSL_PREDICT_FALSE(gen_ != 0)) Release();
  }
  // Brackets nest: one opened while another is open on the same thread joins it.
  EventBracket(const EventBracket&) = delete;
  EventBracket& operator=(const EventBracket&) = delete;

  // Whether events written through this bracket go into a trace.
  bool ok() const { return gen_ != 0; }
  // The trace clock while this bracket is ok(), else 0.
  int64_t Now() const;
  uint64_t gen() const { return gen_; }

  // --- Goroutines. "The current G" is the M's curg (or the thread's G). ---
  // newg was created (Dead -> Runnable) by the current context; start_pc is its function.
  void GoCreate(G* newg, uintptr_t start_pc) {
    if (ABSL_PREDICT_FALSE(ok())) GoCreateSlow(newg, start_pc);
  }
  // This M now runs g; `g` was Runnable before (Execute, after the CAS).
  void GoStart(G* g) {
    if (ABSL_PREDICT_FALSE(ok())) GoStartSlow(g);
  }
  // The current G is about to become Runnable. Before the CAS.
  void GoStop(StopReason reason) {
    if (ABSL_PREDICT_FALSE(ok())) GoStopSlow(reason);
  }
  // The current G is about to become Waiting. Before the CAS.
  void GoBlock(BlockReason reason) {
    if (ABSL_PREDICT_FALSE(ok())) GoBlockSlow(reason);
  }
  // g stopped at a safe point for SuspendG; the caller holds g's scan bit.
  void GoBlockPreempted(G* g) {
    if (ABSL_PREDICT_FALSE(ok())) GoBlockPreemptedSlow(g);
  }
  // g went Waiting -> Runnable (after the CAS). Its status, if first seen, has no stack.
  void GoUnblock(G* g) {
    if (ABSL_PREDICT_FALSE(ok())) GoUnblockSlow(g);
  }
  // The current G finished. Before the CAS to Dead.
  void GoDestroy() {
    if (ABSL_PREDICT_FALSE(ok())) GoDestroySlow();
  }
  // The current G entered a blocking call (after the CAS to Syscall).
  void GoSyscallBegin() {
    if (ABSL_PREDICT_FALSE(ok())) GoSyscallBeginSlow();
  }
  // The current G returns from its blocking call with its P (before the CAS).
  void GoSyscallEnd() {
    if (ABSL_PREDICT_FALSE(ok())) GoSyscallEndSlow();
  }
  // The current G returns from its blocking call after losing its P.
  void GoSyscallEndBlocked() {
    if (ABSL_PREDICT_FALSE(ok())) GoSyscallEndBlockedSlow();
  }

  // --- Procs ---
  void ProcStart(P* p) {
    if (ABSL_PREDICT_FALSE(ok())) ProcStartSlow(p);
  }
  void ProcStop(P* p) {
    if (ABSL_PREDICT_FALSE(ok())) ProcStopSlow(p);
  }
  // `when`: the trace clock (Now()) read before the CAS that took the P; see
  // runtime/trace_hooks.h for why the steal must be stamped before it.
  void ProcSteal(P* p, M* from, int64_t when) {
    if (ABSL_PREDICT_FALSE(ok())) ProcStealSlow(p, from, when);
  }

  // --- Stop-the-world and the collector ---
  void STWBegin(STWKind kind);
  void STWEnd();
  void GCBegin(uint64_t seq);
  void GCEnd(uint64_t seq);
  void StackShrink(G* g, uint64_t before, uint64_t after);

  // --- User annotations ---
  void UserTaskBegin(uint64_t id, uint64_t parent, absl::string_view name);
  void UserTaskEnd(uint64_t id);
  void UserRegion(bool begin, uint64_t task, absl::string_view name);
  void UserLog(uint64_t task, absl::string_view key, absl::string_view message);

 private:
  // The out-of-line halves of the inline event methods above: a site pays only the ok()
  // test while tracing is off.
  void GoCreateSlow(G* newg, uintptr_t start_pc);
  void GoStartSlow(G* g);
  void GoStopSlow(StopReason reason);
  void GoBlockSlow(BlockReason reason);
  void GoBlockPreemptedSlow(G* g);
  void GoUnblockSlow(G* g);
  void GoDestroySlow();
  void GoSyscallBeginSlow();
  void GoSyscallEndSlow();
  void GoSyscallEndBlockedSlow();
  void ProcStartSlow(P* p);
  void ProcStopSlow(P* p);
  void ProcStealSlow(P* p, M* from, int64_t when);

  void Acquire();
  void Release();
  // Room for one event in this generation's buffer (flushing a full one).
  TraceBuf* Buf();
  // Buf's slow path: hands a full buffer to the writer and starts a new one.
  TraceBuf* NextBuf();
  void Event(EventType type, std::initializer_list<uint64_t> args);
  // Lazy statuses: the first time a G or P appears in the generation.
  void EnsureGoStatus(G* g, GoStatus before);
  void EnsureCurrentGoStatus();
  void EnsureProcStatus(P* p, ProcStatus before);
  void EnsureOwnProcStatus();
  // Stack id of gp (null: the current context), after the ownership check.
  uint64_t Stack(G* gp);
  // Stack id of pcs[0..n): the buffer's stack cache, else the generation's table.
  uint64_t InternStack(const uintptr_t* pcs, int n);

  uint64_t gen_ = 0;
  int64_t when_ = 0;  // nonzero: the time Event() stamps instead of the clock
  // The clock when the window opened, read early so that its latency overlaps the site's
  // own work; the window's first event takes it (and clears it), later ones read the clock.
  int64_t opened_ = 0;
  runtime_internal::TraceThreadState* ts_ = nullptr;
  M* m_ = nullptr;
  uint64_t m_id_ = 0;
  bool nested_ = false;  // joined a window already open on this thread
};

// internal::TraceMId is an M's id in the trace: the runtime's id plus one, because the
// format keeps m 0 for the structural batches and M0's runtime id is 0.
uint64_t TraceMId(const M* m);

// internal::CaptureStack walks gp's frame pointers into pcs[0..kMaxFramesPerStack) and
// returns the number of frames, after the ownership check when tracecheckstackownership
// is on (`mp` is the calling M, null for a thread without one). It starts from the current
// frame when running on gp's own stack, dropping the first `skip` return addresses (the
// caller's tracer frames), and otherwise from gp's saved context; every step is
// bounds-checked against gp's stack. Preconditions: the caller owns gp's stack (the
// check's rule); gp is not Dead.
// Thread safety: as the precondition.
int CaptureStack(G* gp, const M* mp, int skip, uintptr_t* pcs);

// internal::SetOldOrderForTest re-creates the order Go had before the seed commit, for the
// regression tests: GoBlock written after the status change, and the stack of a goroutine
// being unblocked captured. With tracecheckstackownership=1 both abort.
void SetOldOrderForTest(bool on);
bool OldOrderForTest();

}  // namespace trace::internal
}  // namespace goro

#endif  // GORO_TRACER_EMIT_H_

// The per-generation goroutine-status pass; see status_pass.h for why it is correct.

#include "tracer/status_pass.h"

#include <vector>

#include "base/mutex.h"
#include "runtime/g.h"
#include "runtime/g_status.h"
#include "runtime/m.h"
#include "runtime/park.h"
#include "runtime/sched.h"
#include "runtime/wait_reason.h"
#include "tracer/emit.h"
#include "tracer/state.h"

namespace goro::trace::internal {
namespace {

struct CollectArgs {
  uint64_t gen;
  G* self;
  std::vector<UntracedG>* out;
};

// Collects one G, which the caller has suspended (scan bit held).
void CollectOne(G* g, uint64_t gen, std::vector<UntracedG>* out) {
  const uint32_t status = ReadGStatus(g) & ~uint32_t{kGScan};
  const WaitReason reason = g->wait_reason.load(std::memory_order_relaxed);
  const auto ts = static_cast<GoStatus>(TraceStatusOf(status, reason));
  uint64_t m = 0;
  if (ts == GoStatus::kRunning || ts == GoStatus::kSyscall) {
    const M* mp = g->m.load(std::memory_order_relaxed);
    if (mp == nullptr) return;  // not on an M after all: leave it to its next event
    m = TraceMId(mp);
  }
  uint64_t stack = 0;
  if (status != kGSyscall) {
    // Ownership through the scan bit: the check passes (Go's traceStack on a suspended G).
    uintptr_t pcs[kMaxFramesPerStack];
    const int n = CaptureStack(g, /*mp=*/nullptr, /*skip=*/0, pcs);
    if (n > 0) stack = State().stacks[gen % 2].Intern(pcs, n);
  }
  out->push_back(UntracedG{g, static_cast<uint64_t>(g->id), m, ts, stack, NowNs()});
}

void CollectAll(void* arg) {
  auto* args = static_cast<CollectArgs*>(arg);
  runtime_internal::Sched* s = runtime_internal::sched();
  std::vector<G*> gs;
  {
    base_internal::OsMutexLock lock(&s->allg_mu);
    gs = s->allgs;
  }
  for (G* g : gs) {
    if (g == args->self) continue;
    if (g->trace_gen.load(std::memory_order_acquire) >= args->gen) continue;  // mentioned
    SuspendGState held;
    if (!TrySuspendG(g, &held)) continue;  // Running, Dead, or someone else's scan bit
    // Re-read under the bit: an event may have mentioned it since the first look.
    if (g->trace_gen.load(std::memory_order_acquire) < args->gen) {
      CollectOne(g, args->gen, args->out);
    }
    ResumeG(held);
  }
}

}  // namespace

std::vector<UntracedG> CollectUntracedGoroutines(uint64_t gen) {
  std::vector<UntracedG> out;
  if (runtime_internal::sched() == nullptr) return out;
  CollectArgs args{gen, runtime_internal::CurrentG(), &out};
  G* self = args.self;
  if (self != nullptr && (ReadGStatus(self) & ~uint32_t{kGScan}) == kGRunning &&
      runtime_internal::CurrentM() != nullptr) {
    // Called from a goroutine (trace::Stop in goroutine code): like Go's traceAdvance,
    // let others take this goroutine's stack while the pass runs on the scheduler stack.
    runtime_internal::CallOnSchedulerStackWaitingForGC(WaitReason::kTraceGoroutineStatus,
                                                       CollectAll, &args);
  } else {
    CollectAll(&args);
  }
  return out;
}

int WriteUntracedStatuses(uint64_t gen, const std::vector<UntracedG>& collected,
                          BatchBuilder* structural) {
  int written = 0;
  for (const UntracedG& u : collected) {
    // Still unmentioned: no event named it from the start of `gen` to the switch. (A G
    // that died and was reused since carries a newer trace_gen from its GoCreate.)
    if (u.g->trace_gen.load(std::memory_order_acquire) >= gen) continue;
    if (u.stack != 0) {
      structural->Event(kEvGoStatusStack, u.when,
                        {u.goid, u.m, static_cast<uint64_t>(u.status), u.stack});
    } else {
      structural->Event(kEvGoStatus, u.when, {u.goid, u.m, static_cast<uint64_t>(u.status)});
    }
    ++written;
  }
  return written;
}

}  // namespace goro::trace::internal

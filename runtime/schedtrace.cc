// schedtrace / scheddetail output, in Go's format (Go's schedtrace in proc.go).

#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "runtime/g_status.h"
#include "runtime/scheduler.h"

namespace goro::runtime_internal {

// A best-effort snapshot, as Go's is: sysmon reads fields that their owners change without
// the locks taken here (an M's spinning flag, the id of a G being recycled by NewProc), so
// a line may mix values from slightly different moments. Those reads are deliberately not
// instrumented for ThreadSanitizer; everything written here is a copy into a local string.
__attribute__((no_sanitize("thread"))) void PrintSchedTrace(bool detail) {
  Sched* s = sched();
  if (s == nullptr) return;
  int64_t now = NanoTime();
  int32_t nm;
  {
    base_internal::OsMutexLock lock(&s->allm_mu);
    nm = static_cast<int32_t>(s->allm.size());
  }
  int32_t nmidle;
  {
    base_internal::OsMutexLock lock(&s->mu);
    nmidle = s->nmidle;
  }
  std::string line = absl::StrCat(
      "SCHED ", (now - s->start_ns) / 1000000, "ms: gomaxprocs=", s->nprocs,
      " idleprocs=", s->npidle.load(std::memory_order_relaxed), " threads=", nm + 1,
      " spinningthreads=", s->nmspinning.load(std::memory_order_relaxed),
      " idlethreads=", nmidle, " runqueue=", s->runq_size.load(std::memory_order_relaxed),
      " gcwaiting=", s->gcwaiting.load(std::memory_order_relaxed) ? 1 : 0, " [");
  for (size_t i = 0; i < s->allp.size(); ++i) {
    absl::StrAppend(&line, i == 0 ? "" : " ", s->allp[i]->runq.Size());
  }
  absl::StrAppend(&line, "]\n");
  if (detail) {
    for (auto& p : s->allp) {
      M* m = p->m.load(std::memory_order_relaxed);
      absl::StrAppend(&line, "  P", p->id, ": status=", p->status.load(std::memory_order_relaxed),
                      " schedtick=", p->schedtick.load(std::memory_order_relaxed),
                      " syscalltick=", p->syscalltick.load(std::memory_order_relaxed),
                      " m=", m != nullptr ? m->id : -1, " runqsize=", p->runq.Size(), "\n");
    }
    {
      base_internal::OsMutexLock lock(&s->allm_mu);
      for (auto& m : s->allm) {
        P* p = m->p.load(std::memory_order_relaxed);
        G* g = m->curg.load(std::memory_order_relaxed);
        absl::StrAppend(&line, "  M", m->id, ": p=", p != nullptr ? p->id : -1,
                        " curg=", g != nullptr ? g->id : -1,
                        " spinning=", m->spinning ? 1 : 0,
                        " syscall=", m->in_syscall.load(std::memory_order_relaxed) ? 1 : 0, "\n");
      }
    }
    base_internal::OsMutexLock lock(&s->allg_mu);
    for (G* g : s->allgs) {
      uint32_t st = ReadGStatus(g);
      if (st == kGDead) continue;
      M* m = g->m.load(std::memory_order_relaxed);
      absl::StrAppend(&line, "  G", g->id, ": status=", st, "(", GStatusString(st), ")");
      if ((st & ~kGScan) == kGWaiting) {
        absl::StrAppend(&line, "(", WaitReasonString(g->wait_reason.load(std::memory_order_relaxed)), ")");
      }
      absl::StrAppend(&line, " m=", m != nullptr ? m->id : -1, "\n");
    }
  }
  size_t off = 0;
  while (off < line.size()) {
    ssize_t n = ::write(2, line.data() + off, line.size() - off);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
}

}  // namespace goro::runtime_internal

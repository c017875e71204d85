// The lock-rank check (base/lock_rank.h): a per-thread list of held locks and the order test
// each acquisition runs against it while GORODEBUG lockrankcheck=1 (Go's lockrank_on.go).

#include "base/lock_rank.h"

#include <atomic>
#include <cstddef>
#include <cstring>

#include "base/fatal.h"

namespace goro::base_internal {
namespace {

struct RankInfo {
  LockRank rank;
  const char* name;
};

// Names, in rank order (Go's lockNames).
constexpr RankInfo kRankNames[] = {
    {LockRank::kControlServer, "controlServer"},
    {LockRank::kControlHandlers, "controlHandlers"},
    {LockRank::kGcCycle, "gcCycle"},
    {LockRank::kTraceControl, "traceControl"},
    {LockRank::kAllm, "allm"},
    {LockRank::kHchan, "hchan"},
    {LockRank::kSyncWait, "syncWait"},
    {LockRank::kTimers, "timers"},
    {LockRank::kSched, "sched"},
    {LockRank::kAllg, "allg"},
    {LockRank::kStackPool, "stackPool"},
    {LockRank::kStackGuard, "stackGuard"},
    {LockRank::kTraceOrphan, "traceOrphan"},
    {LockRank::kTraceFull, "traceFull"},
    {LockRank::kTraceStacks, "traceStacks"},
    {LockRank::kTraceStrings, "traceStrings"},
    {LockRank::kTraceClock, "traceClock"},
    {LockRank::kSymbolizer, "symbolizer"},
    {LockRank::kDebugvars, "debugvars"},
    {LockRank::kTestFirst, "testFirst"},
    {LockRank::kTestSecond, "testSecond"},
};

// The declared exceptions to the order (Go's lockPartialOrder lists a rank in its own entry
// for the same purpose): {held, acquired}. Each needs its reason.
struct AllowedPair {
  LockRank held;
  LockRank acquired;
};
constexpr AllowedPair kLockRankAllowed[] = {
    // select (runtime/select.cc) locks every channel of its cases, in address order, so two
    // selects never wait for each other's channels in opposite orders.
    {LockRank::kHchan, LockRank::kHchan},
};

bool Allowed(LockRank held, LockRank acquired) {
  if (static_cast<uint8_t>(held) < static_cast<uint8_t>(acquired)) return true;
  for (const AllowedPair& p : kLockRankAllowed) {
    if (p.held == held && p.acquired == acquired) return true;
  }
  return false;
}

struct Held {
  const void* lock;  // null: a free slot
  LockRank rank;
};

// Owner: the calling thread; a signal handler on the same thread may push and pop above
// `n` (a handler that takes a lock releases it before it returns). Slots at and above `n`
// are kept free (null), so a push reserves its slot before it fills it and a handler that
// interrupts it sees a free slot, not a stale lock; a pop clears its slot before it lowers
// `n`. The signal fences keep the compiler from reordering those steps. Initial-exec TLS:
// no __tls_get_addr (which may allocate) on this path.
struct HeldList {
  int n;
  Held locks[kMaxHeldLocks];
};
thread_local HeldList t_held __attribute__((tls_model("initial-exec"))) = {};

void Push(LockRank rank, const void* lock) {
  HeldList& h = t_held;
  const int i = h.n;
  h.n = i + 1;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  h.locks[i].rank = rank;
  h.locks[i].lock = lock;
}

// Formats "name(rank)@addr name(rank)@addr ..." for the fatal message.
class HeldText {
 public:
  explicit HeldText(const HeldList& h) {
    for (int i = 0; i < h.n && i < kMaxHeldLocks; ++i) {
      if (h.locks[i].lock == nullptr) continue;
      if (i > 0) Put(" ");
      Put(LockRankName(h.locks[i].rank));
      Put("(");
      PutNumber(static_cast<uint64_t>(h.locks[i].rank), 10);
      Put(")@0x");
      PutNumber(reinterpret_cast<uintptr_t>(h.locks[i].lock), 16);
    }
    if (len_ == 0) Put("(none)");
  }
  absl::string_view view() const { return absl::string_view(buf_, len_); }

 private:
  void Put(const char* s) {
    const size_t n = std::strlen(s);
    const size_t take = n < sizeof(buf_) - len_ ? n : sizeof(buf_) - len_;
    std::memcpy(buf_ + len_, s, take);
    len_ += take;
  }
  void PutNumber(uint64_t v, unsigned base) {
    char digits[24];
    int d = 0;
    do {
      digits[d++] = "0123456789abcdef"[v % base];
      v /= base;
    } while (v != 0);
    char out[25];
    for (int i = 0; i < d; ++i) out[i] = digits[d - 1 - i];
    out[d] = '\0';
    Put(out);
  }
  char buf_[1024];
  size_t len_ = 0;
};

}  // namespace

const char* LockRankName(LockRank rank) {
  for (const RankInfo& r : kRankNames) {
    if (r.rank == rank) return r.name;
  }
  return "?";
}

void SetLockRankCheck(bool on) { g_lock_rank_check.store(on, std::memory_order_relaxed); }

void LockRankAcquire(LockRank rank, const void* lock) {
  HeldList& h = t_held;
  for (int i = 0; i < h.n; ++i) {
    const Held held = h.locks[i];
    if (held.lock == nullptr) continue;
    if (held.lock == lock) {
      GORO_FATAL("lock rank: acquiring ", LockRankName(rank), " (rank ",
                 static_cast<int>(rank), ", lock ", lock,
                 ") that this thread already holds; held, oldest first: ",
                 HeldText(h).view());
    }
    if (!Allowed(held.rank, rank)) {
      GORO_FATAL("lock rank: lock order violation: acquiring ", LockRankName(rank), " (rank ",
                 static_cast<int>(rank), ", lock ", lock, ") while holding ",
                 LockRankName(held.rank), " (rank ", static_cast<int>(held.rank), ", lock ",
                 held.lock, "); held, oldest first: ", HeldText(h).view(),
                 " (the order is declared in base/lock_rank.h)");
    }
  }
  if (h.n >= kMaxHeldLocks) {
    GORO_FATAL("lock rank: acquiring ", LockRankName(rank), " (lock ", lock,
               ") would hold more than ", kMaxHeldLocks, " locks; held, oldest first: ",
               HeldText(h).view());
  }
  Push(rank, lock);
}

void LockRankTryAcquired(LockRank rank, const void* lock) {
  if (t_held.n >= kMaxHeldLocks) return;  // the crash path may not die here; see Release
  Push(rank, lock);
}

void LockRankRelease(const void* lock) {
  HeldList& h = t_held;
  // Newest first: the lock released is almost always the last one taken.
  for (int i = h.n - 1; i >= 0; --i) {
    if (h.locks[i].lock != lock) continue;
    for (int j = i; j + 1 < h.n; ++j) h.locks[j] = h.locks[j + 1];
    h.locks[h.n - 1].lock = nullptr;
    std::atomic_signal_fence(std::memory_order_seq_cst);
    h.n = h.n - 1;
    return;
  }
}

int HeldLockCount() { return t_held.n; }

}  // namespace goro::base_internal

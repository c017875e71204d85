// Per-generation string and stack tables (Go's traceStringTable and traceStackTable).
// Events carry ids; a generation's tables are written out when it is flushed, and only
// then are stacks symbolised. Interning takes a short lock on one of 16 shards chosen by
// the key's hash, so Ms that intern different stacks rarely contend.

#ifndef GORO_TRACER_TABLES_H_
#define GORO_TRACER_TABLES_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/types/span.h"
#include "absl/strings/string_view.h"
#include "base/mutex.h"

namespace goro::trace::internal {

class BatchBuilder;

// internal::StringTable maps strings to ids for one generation; id 0 is "".
class StringTable {
 public:
  // Returns s's id, adding it when new (strings longer than kMaxStringSize keep their
  // last kMaxStringSize bytes). Thread safety: thread-safe.
  uint64_t Intern(absl::string_view s);
  // Appends a kEvString for every entry to `out` and empties the table.
  // Precondition: no concurrent Intern (the generation is over).
  void DumpAndReset(BatchBuilder* out);
  // For the crash path (crash.h): when the table's lock is free, calls fn(ctx, id, s) for
  // every entry, without allocating, keeps the lock (the process is dying) and returns
  // true; returns false at once when another thread holds the lock. Async-signal-safe.
  bool TryVisitForCrash(void (*fn)(void* ctx, uint64_t id, absl::string_view s), void* ctx);

 private:
  base_internal::OsMutex mu_{base_internal::LockRank::kTraceStrings};
  absl::flat_hash_map<std::string, uint64_t> ids_ ABSL_GUARDED_BY(mu_);
};

// internal::StackTable maps sequences of return addresses to ids for one generation; id
// 0 is the empty stack.
class StackTable {
 public:
  // Returns the id of pcs[0..n), adding it when new; 0 when n == 0. `*stored` (if not
  // null) receives the table's copy of the frames, valid until DumpAndReset.
  // Thread safety: thread-safe.
  uint64_t Intern(const uintptr_t* pcs, int n, const uintptr_t** stored = nullptr);
  // Symbolises every stack (function, file and line through symbolize/, interned in
  // `strings`),
  // appends a kEvStack for each to `out` and empties the table.
  // Precondition: no concurrent Intern (the generation is over).
  void DumpAndReset(StringTable* strings, BatchBuilder* out);
  // For the crash path (crash.h): calls fn(ctx, id, pcs, n) for every stack of every shard
  // whose lock is free, without allocating, keeps those locks (the process is dying) and
  // returns how many shards were skipped because another thread held their lock.
  // Async-signal-safe.
  int TryVisitForCrash(void (*fn)(void* ctx, uint64_t id, const uintptr_t* pcs, size_t n),
                       void* ctx);

 private:
  static constexpr int kShards = 16;
  // Keys are stored as vectors but looked up as spans, so that finding a known stack (the
  // common case) allocates nothing.
  using PcSpan = absl::Span<const uintptr_t>;
  struct PcsHash {
    using is_transparent = void;
    size_t operator()(PcSpan pcs) const { return absl::HashOf(pcs); }
  };
  struct PcsEq {
    using is_transparent = void;
    bool operator()(PcSpan a, PcSpan b) const { return a == b; }
  };
  struct Shard {
    base_internal::OsMutex mu{base_internal::LockRank::kTraceStacks};
    absl::flat_hash_map<std::vector<uintptr_t>, uint64_t, PcsHash, PcsEq> ids ABSL_GUARDED_BY(mu);
  };
  Shard shards_[kShards];
  std::atomic<uint64_t> next_id_{1};
};

}  // namespace goro::trace::internal

#endif  // GORO_TRACER_TABLES_H_

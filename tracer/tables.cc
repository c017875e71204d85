// String and stack tables (tables.h).

#include "tracer/tables.h"

#include <cstdio>
#include <utility>

#include "absl/hash/hash.h"
#include "symbolize/symbolizer.h"
#include "tracer/batch.h"
#include "tracer/format.h"
#include "tracer/wire.h"

namespace goro::trace::internal {

uint64_t StringTable::Intern(absl::string_view s) {
  if (s.empty()) return 0;
  if (s.size() > kMaxStringSize) s = s.substr(s.size() - kMaxStringSize);
  base_internal::OsMutexLock lock(&mu_);
  auto [it, added] = ids_.try_emplace(std::string(s), ids_.size() + 1);
  return it->second;
}

void StringTable::DumpAndReset(BatchBuilder* out) {
  base_internal::OsMutexLock lock(&mu_);
  for (const auto& [s, id] : ids_) {
    std::string event;
    event.resize(1 + 2 * kMaxVarintBytes);
    auto* start = reinterpret_cast<uint8_t*>(event.data());
    uint8_t* p = start;
    *p++ = kEvString;
    p = PutUvarint(p, id);
    p = PutUvarint(p, s.size());
    event.resize(static_cast<size_t>(p - start));
    event.append(s);
    out->Append(reinterpret_cast<const uint8_t*>(event.data()), event.size());
  }
  ids_.clear();
}

bool StringTable::TryVisitForCrash(void (*fn)(void*, uint64_t, absl::string_view),
                                   void* ctx) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  if (!mu_.TryLock()) return false;
  for (const auto& [s, id] : ids_) fn(ctx, id, s);
  return true;
}

int StackTable::TryVisitForCrash(void (*fn)(void*, uint64_t, const uintptr_t*, size_t),
                                 void* ctx) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  int skipped = 0;
  for (Shard& shard : shards_) {
    if (!shard.mu.TryLock()) {
      ++skipped;
      continue;
    }
    for (const auto& [pcs, id] : shard.ids) fn(ctx, id, pcs.data(), pcs.size());
  }
  return skipped;
}

uint64_t StackTable::Intern(const uintptr_t* pcs, int n, const uintptr_t** stored) {
  if (n <= 0) return 0;
  const PcSpan key(pcs, static_cast<size_t>(n));
  // The shard comes from the hash's high bits; the table uses the low ones.
  Shard& shard = shards_[(PcsHash()(key) >> 40) % kShards];
  base_internal::OsMutexLock lock(&shard.mu);
  auto it = shard.ids.find(key);
  if (it == shard.ids.end()) {
    const uint64_t id = next_id_.fetch_add(1, std::memory_order_relaxed);
    it = shard.ids.emplace(std::vector<uintptr_t>(key.begin(), key.end()), id).first;
  }
  // A vector's elements do not move when the map rehashes (the vector is moved, not its
  // buffer), so this pointer stays valid until the entry is erased by DumpAndReset.
  if (stored != nullptr) *stored = it->first.data();
  return it->second;
}

namespace {

// Symbolises one return address with the process's shared symbolizer (symbolize/): the
// function holding pc - 1, with inlined calls folded into it, and the source file and line.
// Without line information the file is the object file's path (line 0), which says more
// than "?"; without a symbol the function is the PC in hex.
void Symbolize(uintptr_t pc, std::string* func, std::string* file, uint64_t* line) {
  const symbolize::Frame f = symbolize::SymbolizeReturnAddress(pc);
  if (f.function != "?") {
    *func = f.function;
  } else {
    char hex[32];
    std::snprintf(hex, sizeof(hex), "0x%zx", static_cast<size_t>(pc));
    *func = hex;
  }
  *file = f.line > 0 ? f.file : f.module;
  *line = f.line > 0 ? static_cast<uint64_t>(f.line) : 0;
}

}  // namespace

void StackTable::DumpAndReset(StringTable* strings, BatchBuilder* out) {
  // pc -> its function and file string ids in this generation, and its line. The
  // symbolizer keeps every PC's answer for the process's life, so a PC is looked up in the
  // debug information once, in the first generation that shows it; this map only saves
  // interning its strings again for every stack of this generation that holds it.
  struct Symbol {
    uint64_t func = 0;
    uint64_t file = 0;
    uint64_t line = 0;
  };
  absl::flat_hash_map<uintptr_t, Symbol> symbols;
  for (Shard& shard : shards_) {
    base_internal::OsMutexLock lock(&shard.mu);
    for (const auto& [pcs, id] : shard.ids) {
      std::string event(1 + 2 * kMaxVarintBytes + pcs.size() * 4 * kMaxVarintBytes, '\0');
      auto* start = reinterpret_cast<uint8_t*>(event.data());
      uint8_t* p = start;
      *p++ = kEvStack;
      p = PutUvarint(p, id);
      p = PutUvarint(p, pcs.size());
      for (uintptr_t pc : pcs) {
        auto [it, added] = symbols.try_emplace(pc);
        if (added) {
          std::string func, file;
          uint64_t line = 0;
          Symbolize(pc, &func, &file, &line);
          it->second = {strings->Intern(func), strings->Intern(file), line};
        }
        p = PutUvarint(p, pc);
        p = PutUvarint(p, it->second.func);
        p = PutUvarint(p, it->second.file);
        p = PutUvarint(p, it->second.line);
      }
      event.resize(static_cast<size_t>(p - start));
      out->Append(start, event.size());
    }
    shard.ids.clear();
  }
  next_id_.store(1, std::memory_order_relaxed);
}

}  // namespace goro::trace::internal

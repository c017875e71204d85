// String and stack tables (tables.h).

#include "tracer/tables.h"

#include <dlfcn.h>

#include <cstdio>
#include <utility>

#include "absl/debugging/symbolize.h"
#include "absl/hash/hash.h"
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

// Symbolises one return address: the function containing pc - 1 (from the ELF symbol
// tables, so internal functions have names too) and its object file.
void Symbolize(uintptr_t pc, std::string* func, std::string* file) {
  char name[1024];
  const auto* addr = reinterpret_cast<const void*>(pc - 1);
  Dl_info info{};
  if (dladdr(addr, &info) != 0 && info.dli_fname != nullptr) *file = info.dli_fname;
  if (absl::Symbolize(addr, name, sizeof(name))) {
    *func = name;
    return;
  }
  char hex[32];
  std::snprintf(hex, sizeof(hex), "0x%zx", static_cast<size_t>(pc));
  *func = hex;
}

}  // namespace

void StackTable::DumpAndReset(StringTable* strings, BatchBuilder* out) {
  absl::flat_hash_map<uintptr_t, std::pair<uint64_t, uint64_t>> symbols;
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
          Symbolize(pc, &func, &file);
          it->second = {strings->Intern(func), strings->Intern(file)};
        }
        p = PutUvarint(p, pc);
        p = PutUvarint(p, it->second.first);
        p = PutUvarint(p, it->second.second);
        p = PutUvarint(p, 0);  // line: not known without debug information
      }
      event.resize(static_cast<size_t>(p - start));
      out->Append(start, event.size());
    }
    shard.ids.clear();
  }
  next_id_.store(1, std::memory_order_relaxed);
}

}  // namespace goro::trace::internal

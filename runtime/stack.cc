// Stack: guard-mode names and the page-release primitive the collector's shrinker calls.

#include "runtime/stack.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/fatal.h"
#include "runtime/arch/context.h"
#include "runtime/arch/sanitizer.h"
#include "runtime/stack_pool.h"

#if GORO_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace goro {
namespace {

size_t PageSize() {
  static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return page;
}

// Counts resident bytes of the page-aligned range [lo, hi), and in *below (if not null)
// those of them below `line` (page-aligned, in [lo, hi]).
size_t ResidentBytes(uintptr_t lo, uintptr_t hi, uintptr_t line = 0, size_t* below = nullptr) {
  if (below != nullptr) *below = 0;
  if (hi <= lo) return 0;
  const size_t pages = (hi - lo) / PageSize();
  // 64 pages per 256 KiB stack: small enough for the stack of the caller.
  unsigned char small[256];
  std::vector<unsigned char> large;
  unsigned char* vec = small;
  if (pages > sizeof(small)) {
    large.resize(pages);
    vec = large.data();
  }
  if (mincore(reinterpret_cast<void*>(lo), hi - lo, vec) != 0) return 0;
  const size_t below_pages = line > lo ? std::min(pages, (line - lo) / PageSize()) : 0;
  size_t resident = 0;
  for (size_t i = 0; i < below_pages; ++i) resident += vec[i] & 1;
  if (below != nullptr) *below = resident * PageSize();
  for (size_t i = below_pages; i < pages; ++i) resident += vec[i] & 1;
  return resident * PageSize();
}

}  // namespace

absl::string_view StackGuardModeName(StackGuardMode mode) {
  switch (mode) {
    case StackGuardMode::kAuto:
      return "auto";
    case StackGuardMode::kMadvise:
      return "madvise";
    case StackGuardMode::kMprotect:
      return "mprotect";
    case StackGuardMode::kOff:
      return "off";
  }
  return "unknown";
}

absl::StatusOr<StackGuardMode> ParseStackGuardMode(absl::string_view name) {
  for (StackGuardMode mode : {StackGuardMode::kAuto, StackGuardMode::kMadvise,
                              StackGuardMode::kMprotect, StackGuardMode::kOff}) {
    if (name == StackGuardModeName(mode)) return mode;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "bad stack guard mode \"", name, "\" (want auto, madvise, mprotect or off)"));
}

uintptr_t StackReleaseEnd(const Stack& stack, uintptr_t sp, size_t margin) {
  const size_t keep = arch_internal::kStackRedZone + margin;
  if (sp < stack.lo() || sp - stack.lo() <= keep) return stack.lo();
  const uintptr_t end = (sp - keep) & ~(PageSize() - 1);
  return end > stack.lo() ? end : stack.lo();
}

size_t ReleaseStackBelow(Stack* stack, uintptr_t sp, size_t margin) {
  if (sp < stack->lo() || sp > stack->hi()) {
    GORO_FATAL("ReleaseStackBelow: sp ", FatalHex{sp}, " outside stack [", FatalHex{stack->lo()},
               ", ", FatalHex{stack->hi()}, ") of goroutine ", stack->goid());
  }
  const uintptr_t end = StackReleaseEnd(*stack, sp, margin);
  if (end <= stack->lo()) return 0;
  const size_t released = ResidentBytes(stack->lo(), end);
  if (released == 0) return 0;
  ReleaseStackPages(stack, end, released);
  return released;
}

void ReleaseStackPages(Stack* stack, uintptr_t end, size_t resident_below) {
  if (end <= stack->lo()) return;
  madvise(reinterpret_cast<void*>(stack->lo()), end - stack->lo(), MADV_DONTNEED);
#if GORO_ASAN
  __asan_unpoison_memory_region(reinterpret_cast<void*>(stack->lo()), end - stack->lo());
#endif
  if (StackPool* pool = stack->pool(); pool != nullptr) {
    pool->released_bytes_.fetch_add(resident_below, std::memory_order_relaxed);
  }
}

size_t ResidentStackBytes(const Stack& stack) { return ResidentBytes(stack.lo(), stack.hi()); }

size_t ResidentStackBytes(const Stack& stack, uintptr_t line, size_t* below) {
  return ResidentBytes(stack.lo(), stack.hi(), line, below);
}

}  // namespace goro

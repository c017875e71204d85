// goro::Stack: one goroutine stack carved from a StackPool slab (a reserved range the kernel
// commits as it is touched, with a guard region below it), and the page-release primitive
// the collector's shrinker uses.

#ifndef GORO_RUNTIME_STACK_H_
#define GORO_RUNTIME_STACK_H_

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace goro {

class StackPool;

// goro::StackGuardMode says how the region below each stack is made to fault.
enum class StackGuardMode : uint8_t {
  // Try kMadvise; if the kernel lacks MADV_GUARD_INSTALL (before 6.13), use kMprotect.
  kAuto,
  // MADV_GUARD_INSTALL: page-table guard markers, no extra kernel mapping (VMA).
  kMadvise,
  // mprotect(PROT_NONE): each guard splits the slab's mapping, two VMAs per stack, so
  // vm.max_map_count (default 65530) caps guarded stacks near 32k.
  kMprotect,
  // No guard: the region below each stack stays ordinary memory (an overflow is not
  // detected, but still lands in the unused gap first rather than in a neighbour).
  kOff,
};

// goro::StackGuardModeName returns "auto", "madvise", "mprotect" or "off".
// Thread safety: thread-safe.
absl::string_view StackGuardModeName(StackGuardMode mode);

// goro::ParseStackGuardMode parses the names StackGuardModeName returns; anything else is
// an InvalidArgument error naming the input.
// Thread safety: thread-safe.
absl::StatusOr<StackGuardMode> ParseStackGuardMode(absl::string_view name);

// goro::Stack describes one pooled stack: the usable range [lo, hi) (the stack grows down
// from hi) with the pool's guard region [lo - guard, lo) below it, and the id of the
// goroutine using it, which the stack-overflow handler prints. Stack objects live as long
// as their pool and are never copied; StackPool::Allocate hands out pointers to them.
class Stack {
 public:
  Stack() = default;
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  // goro::Stack::lo / hi / size: the usable range. Thread safety: constant.
  uintptr_t lo() const { return lo_; }
  uintptr_t hi() const { return hi_; }
  size_t size() const { return hi_ - lo_; }

  // goro::Stack::goid returns the id of the goroutine using this stack (0 when free).
  // Thread safety: any thread, including a signal handler (relaxed atomic load).
  int64_t goid() const { return goid_.load(std::memory_order_relaxed); }

  // goro::Stack::set_goid records the goroutine now using the stack (the scheduler calls
  // it when a G is bound to a stack; StackPool::Allocate sets it too).
  // Thread safety: the stack's owner only.
  void set_goid(int64_t goid) { goid_.store(goid, std::memory_order_relaxed); }

  // goro::Stack::pool returns the pool the stack belongs to. Thread safety: constant.
  StackPool* pool() const { return pool_; }

 private:
  friend class StackPool;

  // Constant after construction (set when the slab is carved).
  uintptr_t lo_ = 0;
  // Constant after construction.
  uintptr_t hi_ = 0;
  // Constant after construction.
  StackPool* pool_ = nullptr;
  // Atomic: written by the stack's owner, read (relaxed) by the stack-overflow handler,
  // which only prints it.
  std::atomic<int64_t> goid_{0};
  // Protected by the pool's mutex: next stack on the pool's free list.
  Stack* next_free_ = nullptr;
  // Protected by the pool's mutex: whether the stack is handed out.
  bool in_use_ = false;
  // Protected by the pool's mutex: free, and its hot top still committed (counted in the
  // pool's hot_free_).
  bool hot_ = false;
};

// goro::kDefaultStackReleaseMargin is the margin ReleaseStackBelow keeps below the red zone
// by default: one page, so a goroutine that resumes and calls a function or two does not
// fault the pages straight back in.
inline constexpr size_t kDefaultStackReleaseMargin = 4096;

// goro::StackReleaseEnd returns the end of the range ReleaseStackBelow(stack, sp, margin)
// would release, [stack.lo(), end): sp minus the red zone and the margin, rounded down to
// a page; stack.lo() when nothing lies below that line.
// Thread safety: pure function of its arguments.
uintptr_t StackReleaseEnd(const Stack& stack, uintptr_t sp,
                          size_t margin = kDefaultStackReleaseMargin);

// goro::ReleaseStackBelow returns to the kernel (madvise(MADV_DONTNEED)) the committed
// pages of `stack` that lie wholly below sp - red zone - margin, and returns how many
// bytes were actually resident there (counted with mincore before the release). The
// stack keeps its address range: a later touch commits fresh zero pages. It does not
// decide whether shrinking is allowed; the caller must own the stack (hold the G's scan
// bit, or be the G's own M) and have checked IsShrinkStackSafe.
// Preconditions: stack->lo() <= sp <= stack->hi(); sp is the parked context's saved SP.
// Thread safety: the caller must own the stack.
size_t ReleaseStackBelow(Stack* stack, uintptr_t sp,
                         size_t margin = kDefaultStackReleaseMargin);

// goro::ReleaseStackPages is the release half of ReleaseStackBelow for a caller that has
// already counted the pages: madvise(MADV_DONTNEED) of [stack->lo(), end), with
// `resident_below` (the resident bytes there) added to the pool's released counter.
// Preconditions and thread safety: as ReleaseStackBelow; `end` from StackReleaseEnd.
void ReleaseStackPages(Stack* stack, uintptr_t end, size_t resident_below);

// goro::ResidentStackBytes returns how many bytes of `stack` are committed now (mincore).
// A system call per query: for diagnostics, tests and the collector, not hot paths.
// Thread safety: any thread; the answer may be stale at once if the stack is running.
size_t ResidentStackBytes(const Stack& stack);

// goro::ResidentStackBytes with a line: the same count, and in *below the resident bytes
// wholly below `line` (a page-aligned address, as StackReleaseEnd returns), from the same
// single mincore. Thread safety: as above.
size_t ResidentStackBytes(const Stack& stack, uintptr_t line, size_t* below);

}  // namespace goro

#endif  // GORO_RUNTIME_STACK_H_

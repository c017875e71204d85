// goro::StackPool: goroutine stacks carved from large MAP_NORESERVE slabs, with guard
// regions, a free list for reuse, and counters cheap enough for the collector to read.

#ifndef GORO_RUNTIME_STACK_POOL_H_
#define GORO_RUNTIME_STACK_POOL_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/mutex.h"
#include "runtime/stack.h"

namespace goro {

// goro::StackPoolOptions configures a pool. Sizes are rounded up to whole pages.
struct StackPoolOptions {
  // Usable bytes per stack (the reserved range; the kernel commits it as touched).
  // At least 16 KiB. The GORODEBUG setting for the default comes later. Why the default is
  // not larger: a stack's touched top needs a page-table page per 2 MiB of slab, so the
  // page tables of many parked goroutines grow with the reserve up to 2 MiB (0.5 KiB per
  // goroutine at 256 KiB, 2 KiB at 1 MiB, 4 KiB at 8 MiB), and so do spawn and collector
  // times where TLB misses are expensive (docs/scheduler.md, "Stack reserve").
  size_t stack_bytes = 256 * 1024;
  // Bytes of guard region below each stack (present in every mode; made to fault unless
  // the mode is kOff). At least one page.
  size_t guard_bytes = 16 * 1024;
  StackGuardMode guard_mode = StackGuardMode::kAuto;
  // Target virtual size of one slab (one mmap). A slab holds at least kMinStacksPerSlab
  // stacks, so it grows beyond this with large stacks: the number of slabs (each one
  // kernel mapping and one slot of the overflow handler's registry, kMaxStackSlabs) per
  // goroutine stays the same whatever stack_bytes is.
  size_t slab_bytes = 64 * 1024 * 1024;
  // Bytes at the top of a freed stack that stay committed (the "hot" top reused next).
  size_t hot_bytes = 16 * 1024;
  // How many free stacks keep their hot top; a stack freed beyond that is released whole,
  // so that after a spike of goroutines the free list commits at most
  // max_hot_free_stacks * hot_bytes (16 MiB by default).
  size_t max_hot_free_stacks = 1024;
};

// goro::kMinStacksPerSlab is the fewest stacks a slab holds (see slab_bytes). With the
// overflow handler's 8192-slab registry it allows 2M stacks, whatever their size.
inline constexpr size_t kMinStacksPerSlab = 256;

// goro::StackPoolStats is a snapshot of a pool's counters; each is read with one relaxed
// load, so a snapshot is cheap but not atomic as a whole.
struct StackPoolStats {
  StackGuardMode guard_mode;  // The mode in effect (kAuto resolved after the first slab).
  size_t stack_bytes;         // Usable bytes per stack.
  size_t slabs;               // Slabs mapped.
  size_t stacks_total;        // Stacks carved from slabs (in use + free).
  size_t stacks_in_use;       // Stacks handed out and not yet freed.
  size_t reserved_bytes;      // Virtual bytes of all slabs, guards included.
  size_t in_use_bytes;        // stacks_in_use * stack_bytes (reserved, not committed).
  size_t free_committed_bytes_max;  // Upper bound of committed bytes in free stacks
                                    // (hot_free_stacks * hot_bytes).
  size_t released_bytes;      // Resident bytes returned to the kernel so far (shrinks).
  size_t hot_free_stacks;     // Free stacks whose hot top is still committed.
};

// goro::StackPool hands out goroutine stacks. Stacks are carved from slabs of many stacks
// (one mmap each, MAP_NORESERVE, so nothing is committed until touched); a freed stack
// goes on a LIFO free list after its pages below a small hot top are returned to the
// kernel. Guard regions are installed once per slab. Creating a pool installs the
// process-wide stack-overflow handler (stack_guard.h); each thread that runs goroutines
// must still call goro::SetUpThreadSignalStack().
//
// Memory ordering: Free() happens-before the Allocate() that returns the same stack (both
// take mu_), so a stack's previous user's writes are ordered before its next user's.
class StackPool {
 public:
  // goro::StackPool::Create validates `options`, installs the stack-overflow handler and
  // returns an empty pool (no slab is mapped until the first Allocate).
  // Errors: InvalidArgument for bad sizes; the handler's installation error.
  // Thread safety: thread-safe.
  static absl::StatusOr<std::unique_ptr<StackPool>> Create(const StackPoolOptions& options);

  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;
  // Unmaps every slab. Precondition: no stack is in use (fatal otherwise).
  ~StackPool();

  // goro::StackPool::Allocate returns a stack for goroutine `goid` (recorded in the
  // stack for the overflow message), reusing a freed one when it can, else carving a new
  // slab. Under ASan a reused stack is unpoisoned.
  // Errors: ResourceExhausted when mmap/mprotect/madvise fail; the message names
  // vm.max_map_count with its current value and the number of stacks live.
  // Thread safety: thread-safe.
  absl::StatusOr<Stack*> Allocate(int64_t goid);

  // goro::StackPool::Free returns `stack` to the pool: pages below the hot top go back to
  // the kernel, the goroutine id is cleared, and the stack goes on the free list.
  // Preconditions: `stack` came from this pool's Allocate and is not running anywhere.
  // Freeing a stack twice, or another pool's stack, is fatal.
  // Thread safety: thread-safe.
  void Free(Stack* stack);

  // goro::StackPool::Stats returns the counters. Thread safety: thread-safe, lock-free.
  StackPoolStats Stats() const;

  // goro::StackPool::StacksInUseInAllPools returns how many stacks every pool of the
  // process together has handed out and not taken back: 0 once every goro::Run has
  // returned, which the tests' teardown checks.
  // Thread safety: thread-safe, lock-free (a counter, not a snapshot of any pool).
  static size_t StacksInUseInAllPools();

  // goro::StackPool::CommittedBytes returns the resident bytes of every slab now: stacks in
  // use and the hot tops of free ones (guard pages are never resident). One mincore per
  // 64 MiB slab, each walking the slab's page tables: about 80 ms with 100,000 stacks, so
  // for sampling at a low rate (the collector's stack-goal trigger), not hot paths.
  // Thread safety: thread-safe (slabs are never unmapped while the pool lives).
  size_t CommittedBytes() const;

  // goro::StackPool::options returns the options in effect (sizes rounded to pages).
  // Thread safety: constant.
  const StackPoolOptions& options() const { return options_; }

 private:
  friend class StackPoolTestPeer;
  friend void ReleaseStackPages(Stack* stack, uintptr_t end, size_t resident_below);

  struct Slab {
    uintptr_t base = 0;
    size_t bytes = 0;
    int registry_slot = -1;
    std::unique_ptr<Stack[]> stacks;
  };

  explicit StackPool(const StackPoolOptions& options);

  // Maps, guards and registers one slab and puts its stacks on the free list.
  absl::Status AddSlabLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Installs the guard region below one stack according to mode_.
  absl::Status InstallGuardLocked(uintptr_t guard_lo) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The caller-facing error for a failed mapping call.
  absl::Status MappingError(const char* what, size_t bytes, int err) const;

  // Constant after construction (sizes rounded to pages).
  StackPoolOptions options_;
  // Constant after construction: guard_bytes + stack_bytes.
  size_t stride_ = 0;
  // Constant after construction.
  size_t stacks_per_slab_ = 0;

  mutable base_internal::OsMutex mu_{base_internal::LockRank::kStackPool};
  // --- Begin mu_-protected members ---
  StackGuardMode mode_ ABSL_GUARDED_BY(mu_);
  std::vector<Slab> slabs_ ABSL_GUARDED_BY(mu_);
  Stack* free_list_ ABSL_GUARDED_BY(mu_) = nullptr;
  // Test hook (StackPoolTestPeer): errno to fail the next mapping call with, or 0.
  int inject_mapping_errno_ ABSL_GUARDED_BY(mu_) = 0;
  // --- End mu_-protected members ---

  // Atomic: written under mu_, read relaxed by Stats() (no ordering needed: counters).
  std::atomic<uint8_t> effective_mode_{0};
  std::atomic<size_t> slab_count_{0};
  std::atomic<size_t> stacks_total_{0};
  std::atomic<size_t> stacks_in_use_{0};
  // Atomic: free stacks with a committed hot top (Stack::hot_); written under mu_, read
  // relaxed by Free (to decide before taking mu_: the bound is approximate by the number of
  // threads freeing at once) and by Stats().
  std::atomic<size_t> hot_free_{0};
  // Atomic: added to (relaxed) by ReleaseStackBelow and Free.
  std::atomic<size_t> released_bytes_{0};
};

}  // namespace goro

#endif  // GORO_RUNTIME_STACK_POOL_H_

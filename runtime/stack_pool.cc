// StackPool: slabs of guarded goroutine stacks, a LIFO free list, and the error that names
// vm.max_map_count when the kernel refuses a mapping.
//
// Layout of a slab of n stacks (addresses grow to the right):
//   [guard 0][stack 0][guard 1][stack 1] ... [guard n-1][stack n-1]
// Each stack grows down towards its own guard, so an overflow faults in the guard rather
// than in the neighbour's top. With MADV_GUARD_INSTALL the whole slab stays one kernel
// mapping (VMA); with mprotect every guard splits it, two VMAs per stack, which is what
// makes vm.max_map_count matter. Rejected: one mmap per stack (one or two VMAs each even
// without guards, and a system call per goroutine creation).

#include "runtime/stack_pool.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/fatal.h"
#include "base/status_macros.h"
#include "runtime/arch/sanitizer.h"
#include "runtime/stack_guard.h"

#if GORO_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace goro {
namespace {

// MADV_GUARD_INSTALL (Linux 6.13+); glibc 2.36's headers predate it.
constexpr int kMadvGuardInstall = 102;

// Atomic (relaxed): stacks handed out by every pool of the process and not yet freed (a
// count for leak checks; ordered against nothing).
std::atomic<size_t> g_stacks_in_use_all_pools{0};

size_t PageSize() {
  static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return page;
}

size_t RoundUpToPage(size_t n) { return (n + PageSize() - 1) / PageSize() * PageSize(); }

// Reads /proc/sys/vm/max_map_count; -1 when it cannot be read.
long ReadMaxMapCount() {
  const int fd = open("/proc/sys/vm/max_map_count", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[32];
  const ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return -1;
  long value = 0;
  for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; ++i) {
    value = value * 10 + (buf[i] - '0');
  }
  return value;
}

}  // namespace

absl::StatusOr<std::unique_ptr<StackPool>> StackPool::Create(const StackPoolOptions& options) {
  if (options.stack_bytes < 16 * 1024) {
    return absl::InvalidArgumentError(absl::StrCat(
        "stack pool: stack_bytes ", options.stack_bytes, " is below the 16384-byte minimum"));
  }
  if (options.guard_bytes == 0) {
    return absl::InvalidArgumentError("stack pool: guard_bytes must be at least one page");
  }
  if (options.hot_bytes > options.stack_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("stack pool: hot_bytes ", options.hot_bytes,
                                                   " exceeds stack_bytes ",
                                                   options.stack_bytes));
  }
  GORO_RETURN_IF_ERROR(InstallStackOverflowHandler());
  return std::unique_ptr<StackPool>(new StackPool(options));
}

StackPool::StackPool(const StackPoolOptions& options) : options_(options) {
  options_.stack_bytes = RoundUpToPage(options.stack_bytes);
  options_.guard_bytes = RoundUpToPage(options.guard_bytes);
  options_.hot_bytes = RoundUpToPage(options.hot_bytes);
  stride_ = options_.guard_bytes + options_.stack_bytes;
  stacks_per_slab_ = std::max<size_t>(kMinStacksPerSlab, options.slab_bytes / stride_);
  options_.slab_bytes = stacks_per_slab_ * stride_;
  mode_ = options.guard_mode;
  effective_mode_.store(static_cast<uint8_t>(mode_), std::memory_order_relaxed);
}

StackPool::~StackPool() {
  base_internal::OsMutexLock lock(&mu_);
  const size_t in_use = stacks_in_use_.load(std::memory_order_relaxed);
  if (in_use != 0) {
    GORO_FATAL("StackPool destroyed with ", in_use, " stacks in use");
  }
  for (Slab& slab : slabs_) {
    runtime_internal::UnregisterStackSlab(slab.registry_slot);
    munmap(reinterpret_cast<void*>(slab.base), slab.bytes);
  }
}

absl::Status StackPool::MappingError(const char* what, size_t bytes, int err) const {
  const size_t live = stacks_total_.load(std::memory_order_relaxed);
  const size_t in_use = stacks_in_use_.load(std::memory_order_relaxed);
  const auto mode = static_cast<StackGuardMode>(effective_mode_.load(std::memory_order_relaxed));
  if (err != ENOMEM) {
    return absl::InternalError(absl::StrCat("stack pool: ", what, " of ", bytes,
                                            " bytes failed: ", std::strerror(err)));
  }
  std::string advice;
  if (mode == StackGuardMode::kMprotect || mode == StackGuardMode::kAuto) {
    advice = "; mprotect guards split the mapping at every stack (two mappings per stack): "
             "raise vm.max_map_count or use stackguard=madvise (Linux 6.13+)";
  } else {
    advice = "; raise vm.max_map_count or lower the stack count";
  }
  return absl::ResourceExhaustedError(absl::StrCat(
      "stack pool: ", what, " of ", bytes, " bytes failed: ", std::strerror(err),
      " (ENOMEM); vm.max_map_count is ", ReadMaxMapCount(), " and ", live,
      " stacks are live in this pool (", in_use, " in use), guard mode ",
      StackGuardModeName(mode), advice));
}

absl::Status StackPool::InstallGuardLocked(uintptr_t guard_lo) {
  void* const p = reinterpret_cast<void*>(guard_lo);
  const size_t n = options_.guard_bytes;
  switch (mode_) {
    case StackGuardMode::kOff:
      return absl::OkStatus();
    case StackGuardMode::kAuto:
      if (madvise(p, n, kMadvGuardInstall) == 0) {
        mode_ = StackGuardMode::kMadvise;
        effective_mode_.store(static_cast<uint8_t>(mode_), std::memory_order_relaxed);
        return absl::OkStatus();
      }
      if (errno != EINVAL) return MappingError("madvise(MADV_GUARD_INSTALL)", n, errno);
      // The kernel predates guard markers: fall back to mprotect for this pool.
      mode_ = StackGuardMode::kMprotect;
      effective_mode_.store(static_cast<uint8_t>(mode_), std::memory_order_relaxed);
      [[fallthrough]];
    case StackGuardMode::kMprotect:
      if (mprotect(p, n, PROT_NONE) != 0) return MappingError("mprotect", n, errno);
      return absl::OkStatus();
    case StackGuardMode::kMadvise:
      if (madvise(p, n, kMadvGuardInstall) != 0) {
        return MappingError("madvise(MADV_GUARD_INSTALL)", n, errno);
      }
      return absl::OkStatus();
  }
  GORO_FATAL("stack pool: bad guard mode ", static_cast<int>(mode_));
}

absl::Status StackPool::AddSlabLocked() {
  const size_t bytes = stacks_per_slab_ * stride_;
  if (inject_mapping_errno_ != 0) {
    const int err = inject_mapping_errno_;
    inject_mapping_errno_ = 0;
    return MappingError("mmap", bytes, err);
  }
  void* const p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (p == MAP_FAILED) return MappingError("mmap", bytes, errno);
  const auto base = reinterpret_cast<uintptr_t>(p);
  // Stacks are touched a page at a time; a transparent huge page would commit 2 MiB.
  madvise(p, bytes, MADV_NOHUGEPAGE);
  for (size_t i = 0; i < stacks_per_slab_; ++i) {
    absl::Status status = InstallGuardLocked(base + i * stride_);
    if (!status.ok()) {
      munmap(p, bytes);
      return status;
    }
  }
  Slab slab;
  slab.base = base;
  slab.bytes = bytes;
  slab.stacks = std::make_unique<Stack[]>(stacks_per_slab_);
  for (size_t i = 0; i < stacks_per_slab_; ++i) {
    Stack& s = slab.stacks[i];
    s.lo_ = base + i * stride_ + options_.guard_bytes;
    s.hi_ = s.lo_ + options_.stack_bytes;
    s.pool_ = this;
  }
  absl::StatusOr<int> slot = runtime_internal::RegisterStackSlab(
      base, stacks_per_slab_, stride_, options_.guard_bytes, slab.stacks.get());
  if (!slot.ok()) {
    munmap(p, bytes);
    return slot.status();
  }
  slab.registry_slot = *slot;
  // Push in reverse so the lowest stack is handed out first.
  for (size_t i = stacks_per_slab_; i-- > 0;) {
    slab.stacks[i].next_free_ = free_list_;
    free_list_ = &slab.stacks[i];
  }
  slabs_.push_back(std::move(slab));
  slab_count_.fetch_add(1, std::memory_order_relaxed);
  stacks_total_.fetch_add(stacks_per_slab_, std::memory_order_relaxed);
  return absl::OkStatus();
}

absl::StatusOr<Stack*> StackPool::Allocate(int64_t goid) {
  Stack* stack;
  {
    base_internal::OsMutexLock lock(&mu_);
    if (free_list_ == nullptr) GORO_RETURN_IF_ERROR(AddSlabLocked());
    stack = free_list_;
    free_list_ = stack->next_free_;
    stack->next_free_ = nullptr;
    stack->in_use_ = true;
    if (stack->hot_) {
      stack->hot_ = false;
      hot_free_.fetch_sub(1, std::memory_order_relaxed);
    }
    stacks_in_use_.fetch_add(1, std::memory_order_relaxed);
    g_stacks_in_use_all_pools.fetch_add(1, std::memory_order_relaxed);
  }
#if GORO_ASAN
  // Frames left by the previous user (switched away, never returned) may still be
  // poisoned in ASan's shadow.
  __asan_unpoison_memory_region(reinterpret_cast<void*>(stack->lo()), stack->size());
#endif
  stack->set_goid(goid);
  return stack;
}

void StackPool::Free(Stack* stack) {
  if (stack == nullptr || stack->pool_ != this) {
    GORO_FATAL("StackPool::Free: stack ", static_cast<void*>(stack),
               " does not belong to pool ", static_cast<void*>(this));
  }
  // Return all but the hot top to the kernel (the pages read back as zeros); the whole
  // stack once max_hot_free_stacks free stacks keep theirs.
  const bool keep_hot = hot_free_.load(std::memory_order_relaxed) < options_.max_hot_free_stacks;
  const size_t cold = keep_hot ? stack->size() - options_.hot_bytes : stack->size();
  if (cold > 0) madvise(reinterpret_cast<void*>(stack->lo()), cold, MADV_DONTNEED);
  base_internal::OsMutexLock lock(&mu_);
  if (!stack->in_use_) {
    GORO_FATAL("StackPool::Free: stack [", FatalHex{stack->lo()}, ", ", FatalHex{stack->hi()},
               ") freed twice (last goroutine ", stack->goid(), ")");
  }
  stack->in_use_ = false;
  stack->hot_ = keep_hot && options_.hot_bytes > 0;
  if (stack->hot_) hot_free_.fetch_add(1, std::memory_order_relaxed);
  stack->set_goid(0);
  stack->next_free_ = free_list_;
  free_list_ = stack;
  stacks_in_use_.fetch_sub(1, std::memory_order_relaxed);
  g_stacks_in_use_all_pools.fetch_sub(1, std::memory_order_relaxed);
}

size_t StackPool::StacksInUseInAllPools() {
  return g_stacks_in_use_all_pools.load(std::memory_order_relaxed);
}

StackPoolStats StackPool::Stats() const {
  StackPoolStats s;
  s.guard_mode = static_cast<StackGuardMode>(effective_mode_.load(std::memory_order_relaxed));
  s.stack_bytes = options_.stack_bytes;
  s.slabs = slab_count_.load(std::memory_order_relaxed);
  s.stacks_total = stacks_total_.load(std::memory_order_relaxed);
  s.stacks_in_use = stacks_in_use_.load(std::memory_order_relaxed);
  s.hot_free_stacks = hot_free_.load(std::memory_order_relaxed);
  s.reserved_bytes = s.slabs * options_.slab_bytes;
  s.in_use_bytes = s.stacks_in_use * options_.stack_bytes;
  // Only hot tops stay committed in free stacks: the rest was released or never touched.
  s.free_committed_bytes_max = s.hot_free_stacks * options_.hot_bytes;
  s.released_bytes = released_bytes_.load(std::memory_order_relaxed);
  return s;
}

size_t StackPool::CommittedBytes() const {
  std::vector<std::pair<uintptr_t, size_t>> slabs;
  {
    base_internal::OsMutexLock lock(&mu_);
    slabs.reserve(slabs_.size());
    for (const Slab& slab : slabs_) slabs.emplace_back(slab.base, slab.bytes);
  }
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> pages;
  size_t committed = 0;
  for (const auto& [base, bytes] : slabs) {
    pages.resize(bytes / page);
    // Cannot fail for a mapped, page-aligned slab; count nothing rather than guess.
    if (mincore(reinterpret_cast<void*>(base), bytes, pages.data()) != 0) continue;
    for (unsigned char b : pages) committed += (b & 1) * page;
  }
  return committed;
}

}  // namespace goro

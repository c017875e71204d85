// The stack-overflow handler, per-thread signal stacks, and the lock-free slab registry the
// handler reads. The registry is a fixed array: a signal handler may not lock or allocate.

#include "runtime/stack_guard.h"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "base/fatal.h"
#include "base/mutex.h"
#include "runtime/stack.h"

namespace goro {
namespace runtime_internal {
namespace {

// One registered slab. A reader (the signal handler) loads `base` with acquire; a zero
// base means the slot is free. The other fields are written before the release store of
// `base` and not changed until `base` is cleared again.
struct SlabRecord {
  std::atomic<uintptr_t> base{0};     // Atomic: release-stored last on registration.
  std::atomic<uintptr_t> end{0};      // Atomic (relaxed): ordered by `base`.
  std::atomic<uintptr_t> stride{0};   // Atomic (relaxed): ordered by `base`.
  std::atomic<uintptr_t> guard{0};    // Atomic (relaxed): ordered by `base`.
  std::atomic<const Stack*> stacks{nullptr};  // Atomic (relaxed): ordered by `base`.
};

SlabRecord g_slabs[kMaxStackSlabs];
// Atomic: one past the highest slot ever used; written under g_registry_mu (release),
// read by the handler (acquire) to bound its scan.
std::atomic<int> g_slab_high_water{0};
// Serialises registrations and removals (never taken by the handler).
base_internal::OsMutex g_registry_mu{base_internal::LockRank::kStackGuard};

}  // namespace

absl::StatusOr<int> RegisterStackSlab(uintptr_t base, size_t count, size_t stride,
                                      size_t guard, const Stack* stacks) {
  base_internal::OsMutexLock lock(&g_registry_mu);
  int high = g_slab_high_water.load(std::memory_order_relaxed);
  for (int i = 0; i < kMaxStackSlabs; ++i) {
    SlabRecord& r = g_slabs[i];
    if (r.base.load(std::memory_order_relaxed) != 0) continue;
    r.end.store(base + count * stride, std::memory_order_relaxed);
    r.stride.store(stride, std::memory_order_relaxed);
    r.guard.store(guard, std::memory_order_relaxed);
    r.stacks.store(stacks, std::memory_order_relaxed);
    // Release: publishes the fields above to the handler's acquire load of `base`.
    r.base.store(base, std::memory_order_release);
    if (i >= high) g_slab_high_water.store(i + 1, std::memory_order_release);
    return i;
  }
  return absl::ResourceExhaustedError(absl::StrCat(
      "stack pool: the stack slab registry is full (", kMaxStackSlabs,
      " slabs); use larger slabs (StackPoolOptions::slab_bytes)"));
}

void UnregisterStackSlab(int slot) {
  base_internal::OsMutexLock lock(&g_registry_mu);
  GORO_CHECK(slot >= 0 && slot < kMaxStackSlabs);
  g_slabs[slot].base.store(0, std::memory_order_release);
}

const Stack* FindStackByGuardAddress(uintptr_t addr) {
  // Acquire: pairs with the release store of the high-water mark.
  const int high = g_slab_high_water.load(std::memory_order_acquire);
  for (int i = 0; i < high; ++i) {
    const SlabRecord& r = g_slabs[i];
    // Acquire: pairs with the release store of `base` in RegisterStackSlab.
    const uintptr_t base = r.base.load(std::memory_order_acquire);
    if (base == 0 || addr < base || addr >= r.end.load(std::memory_order_relaxed)) continue;
    const uintptr_t stride = r.stride.load(std::memory_order_relaxed);
    const uintptr_t offset = (addr - base) % stride;
    if (offset >= r.guard.load(std::memory_order_relaxed)) return nullptr;
    return &r.stacks.load(std::memory_order_relaxed)[(addr - base) / stride];
  }
  return nullptr;
}

namespace {

struct sigaction g_previous_segv;
struct sigaction g_previous_bus;

void OnFault(int sig, siginfo_t* info, void* ucontext) {
  const uintptr_t addr = reinterpret_cast<uintptr_t>(info->si_addr);
  if (const Stack* stack = FindStackByGuardAddress(addr); stack != nullptr) {
    GORO_FATAL("stack overflow in goroutine ", stack->goid(), " (stack [",
               FatalHex{stack->lo()}, ", ", FatalHex{stack->hi()}, "), fault at ",
               FatalHex{addr}, ")");
  }
  // Not ours: hand the fault to whoever handled it before us.
  const struct sigaction& previous = sig == SIGSEGV ? g_previous_segv : g_previous_bus;
  if ((previous.sa_flags & SA_SIGINFO) != 0 && previous.sa_sigaction != nullptr) {
    previous.sa_sigaction(sig, info, ucontext);
    return;
  }
  if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
    previous.sa_handler(sig);
    return;
  }
  // Default action: restore it and return; the faulting instruction runs again and the
  // kernel delivers the signal with the default disposition (core dump).
  struct sigaction dfl;
  std::memset(&dfl, 0, sizeof(dfl));
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(sig, &dfl, nullptr);
}

absl::Status InstallOnce() {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof(sa));
  sa.sa_sigaction = &OnFault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGSEGV, &sa, &g_previous_segv) != 0 ||
      sigaction(SIGBUS, &sa, &g_previous_bus) != 0) {
    return absl::InternalError(
        absl::StrCat("stack guard: sigaction failed: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

constexpr size_t kSignalStackBytes = 64 * 1024;
constexpr size_t kMinExistingSignalStackBytes = 32 * 1024;

// Owns the calling thread's signal stack; the destructor runs at thread exit.
class ThreadSignalStack {
 public:
  ~ThreadSignalStack() {
    if (mapping_ == nullptr) return;
    stack_t ss;
    std::memset(&ss, 0, sizeof(ss));
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, nullptr);
    munmap(mapping_, mapping_bytes_);
  }

  absl::Status SetUp() {
    if (mapping_ != nullptr) return absl::OkStatus();
    stack_t current;
    if (sigaltstack(nullptr, &current) == 0 && (current.ss_flags & SS_DISABLE) == 0 &&
        current.ss_size >= kMinExistingSignalStackBytes) {
      return absl::OkStatus();  // Keep the existing one (for example ASan's).
    }
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    const size_t bytes = kSignalStackBytes + page;
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "stack guard: mmap of a ", bytes, "-byte signal stack failed: ",
          std::strerror(errno)));
    }
    // Guard page at the low end, so an overflowing handler faults instead of scribbling.
    mprotect(p, page, PROT_NONE);
    stack_t ss;
    std::memset(&ss, 0, sizeof(ss));
    ss.ss_sp = static_cast<char*>(p) + page;
    ss.ss_size = kSignalStackBytes;
    if (sigaltstack(&ss, nullptr) != 0) {
      const int err = errno;
      munmap(p, bytes);
      return absl::InternalError(
          absl::StrCat("stack guard: sigaltstack failed: ", std::strerror(err)));
    }
    mapping_ = p;
    mapping_bytes_ = bytes;
    return absl::OkStatus();
  }

 private:
  void* mapping_ = nullptr;    // Owner: this thread.
  size_t mapping_bytes_ = 0;   // Owner: this thread.
};

}  // namespace
}  // namespace runtime_internal

absl::Status InstallStackOverflowHandler() {
  static const absl::Status* const status =
      new absl::Status(runtime_internal::InstallOnce());
  return *status;
}

absl::Status SetUpThreadSignalStack() {
  thread_local runtime_internal::ThreadSignalStack stack;
  return stack.SetUp();
}

}  // namespace goro

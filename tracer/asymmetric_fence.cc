// The asymmetric fence (asymmetric_fence.h): membarrier(2) on the advance's side.

#include "tracer/asymmetric_fence.h"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/fatal.h"
#include "runtime/arch/target.h"

namespace goro::trace::internal {

std::atomic<bool> g_light_acquire{false};

namespace {

long Membarrier(int cmd) { return syscall(__NR_membarrier, cmd, 0, 0); }

bool Register() {
  // The argument was checked for x86-TSO only (asymmetric_fence.h).
  if constexpr (!arch_internal::kTotalStoreOrder) return false;
  const long supported = Membarrier(MEMBARRIER_CMD_QUERY);
  if (supported < 0 || (supported & MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) return false;
  return Membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
}

}  // namespace

bool InitAsymmetricFence() {
  static const bool registered = [] {
    const bool ok = Register();
    if (ok) g_light_acquire.store(true, std::memory_order_seq_cst);
    return ok;
  }();
  return registered;
}

void HeavyFence() {
  if (!g_light_acquire.load(std::memory_order_relaxed)) return;
  if (Membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0) {
    const int err = errno;
    GORO_FATAL("tracer: membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) failed after "
               "registering: errno=", err, " (", std::strerror(err), ")");
  }
}

}  // namespace goro::trace::internal

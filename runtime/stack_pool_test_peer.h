// StackPoolTestPeer: test-only access to StackPool internals (mapping-failure injection).

#ifndef GORO_RUNTIME_STACK_POOL_TEST_PEER_H_
#define GORO_RUNTIME_STACK_POOL_TEST_PEER_H_

#include "base/mutex.h"
#include "runtime/stack_pool.h"

namespace goro {

class StackPoolTestPeer {
 public:
  // Makes the pool's next slab mapping fail with `err` (for example ENOMEM) as if mmap
  // had returned it. Thread safety: thread-safe.
  static void FailNextMapping(StackPool* pool, int err) {
    base_internal::OsMutexLock lock(&pool->mu_);
    pool->inject_mapping_errno_ = err;
  }
};

}  // namespace goro

#endif  // GORO_RUNTIME_STACK_POOL_TEST_PEER_H_

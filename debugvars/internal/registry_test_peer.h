// goro::debugvars::RegistryTestPeer: test-only access to Registry internals that the public
// API deliberately does not expose (subscriber bookkeeping, the raw settings list).

#ifndef GORO_DEBUGVARS_INTERNAL_REGISTRY_TEST_PEER_H_
#define GORO_DEBUGVARS_INTERNAL_REGISTRY_TEST_PEER_H_

#include <cstddef>

#include "debugvars/registry.h"

namespace goro::debugvars {

// goro::debugvars::RegistryTestPeer reads a registry's private state for tests.
// Thread safety: takes the registry's lock; do not call from a subscriber callback that
// the registry runs with the lock held (none does).
class RegistryTestPeer {
 public:
  // Number of live subscriptions (per-setting and all-settings).
  static size_t SubscriberCount(const Registry& r) {
    base_internal::OsMutexLock lock(&r.mu_);
    return r.subscribers_.size();
  }
  // Number of registered settings, `strict` included.
  static size_t SettingCount(const Registry& r) {
    base_internal::OsMutexLock lock(&r.mu_);
    return r.settings_.size();
  }
};

}  // namespace goro::debugvars

#endif  // GORO_DEBUGVARS_INTERNAL_REGISTRY_TEST_PEER_H_

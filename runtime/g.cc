// The per-thread current-G slot, behind non-inlined accessors.

#include "runtime/g.h"

#include "absl/base/attributes.h"

namespace goro {
namespace runtime_internal {
namespace {

// Owner: the calling thread.
thread_local G* t_current_g = nullptr;

}  // namespace

__attribute__((noipa)) G* CurrentG() { return t_current_g; }

__attribute__((noipa)) void SetCurrentG(G* g) { t_current_g = g; }

}  // namespace runtime_internal
}  // namespace goro

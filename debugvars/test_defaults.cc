// The settings goro's test mains turn on (debugvars/test_defaults.h).

#include "debugvars/test_defaults.h"

#include "absl/status/status.h"
#include "base/fatal.h"
#include "debugvars/registry.h"

namespace goro::debugvars {

void ApplyTestDefaults() {
  Registry& r = Registry::Global();
  Setting* s = r.Find("lockrankcheck");
  if (s == nullptr || s->origin() != Origin::kDefault) return;
  const absl::Status st = r.Set("lockrankcheck", "1", "goro test main: the suite checks lock ranks");
  if (!st.ok()) GORO_FATAL("test main: cannot turn on lockrankcheck: ", st.message());
}

}  // namespace goro::debugvars

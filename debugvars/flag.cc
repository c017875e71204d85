// Definition of the --gorodebug flag and its update hook.

#include "debugvars/flag.h"

#include "absl/flags/flag.h"
#include "debugvars/registry.h"

namespace {

void OnGorodebugFlagUpdate();

}  // namespace

ABSL_FLAG(std::string, gorodebug, "",
          "GORODEBUG settings, key=value entries separated by commas; overrides the "
          "GORODEBUG environment variable (see docs/gorodebug.md)")
    .OnUpdate(OnGorodebugFlagUpdate);

namespace {

void OnGorodebugFlagUpdate() {
  auto& registry = goro::debugvars::Registry::Global();
  // Before Initialize() the value is picked up there, in precedence order.
  if (!registry.initialized()) return;
  for (const auto& p : registry.ApplyFromSource(absl::GetFlag(FLAGS_gorodebug),
                                                goro::debugvars::Origin::kFlag, "--gorodebug")) {
    std::fprintf(stderr, "%s\n", p.message.c_str());
  }
}

}  // namespace

namespace goro::debugvars {

std::string FlagValue() { return absl::GetFlag(FLAGS_gorodebug); }

}  // namespace goro::debugvars

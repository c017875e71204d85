// main() for the trace suite: as //debugvars:test_main, but it refuses to run unless
// GORODEBUG tracecheckstackownership is on (DESIGN.md 4 rule 5; Go's trace tests always
// set it), so that every stack the suite's traces capture is proven owned.

#include <cstdio>

#include "absl/flags/parse.h"
#include "debugvars/registry.h"
#include "debugvars/test_defaults.h"
#include "gtest/gtest.h"
#include "runtime/settings.h"

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  absl::ParseCommandLine(argc, argv);
  goro::debugvars::Registry::Global().Initialize();
  goro::debugvars::ApplyTestDefaults();
  if (!goro::debug::tracecheckstackownership.Get()) {
    std::fprintf(stderr,
                 "goro: the trace suite runs only with GORODEBUG=tracecheckstackownership=1 "
                 "(set it through the target's gorodebug attribute)\n");
    return 1;
  }
  return RUN_ALL_TESTS();
}

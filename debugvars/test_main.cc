// main() for goro's GoogleTest binaries: GoogleTest flags first, then Abseil flags
// (--gorodebug among them), then GORODEBUG's startup sources, then the test defaults
// (lockrankcheck=1, debugvars/test_defaults.h), then the tests.

#include "absl/flags/parse.h"
#include "debugvars/registry.h"
#include "debugvars/test_defaults.h"
#include "gtest/gtest.h"

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  absl::ParseCommandLine(argc, argv);
  goro::debugvars::Registry::Global().Initialize();
  goro::debugvars::ApplyTestDefaults();
  return RUN_ALL_TESTS();
}

// FUZZ_CHECK, the fuzz targets' invariant check: unlike assert it stays on in every build
// mode, and it prints the failed condition, where it is and a printf-style detail before
// aborting, so that a crash found by libFuzzer explains itself.

#ifndef GORO_TESTS_FUZZ_FUZZ_CHECK_H_
#define GORO_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond, ...)                                                      \
  do {                                                                             \
    if (!(cond)) {                                                                 \
      std::fprintf(stderr, "fuzzer: invariant failed: %s (%s:%d) ", #cond, __FILE__, \
                   __LINE__);                                                      \
      std::fprintf(stderr, __VA_ARGS__);                                           \
      std::fprintf(stderr, "\n");                                                  \
      std::abort();                                                                \
    }                                                                              \
  } while (0)

#endif  // GORO_TESTS_FUZZ_FUZZ_CHECK_H_

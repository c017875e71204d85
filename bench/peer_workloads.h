// The workloads the C++ peer programs share (goro's and Boost's): their sizes and the
// fan-out's unit of work. bench/go/peer_bench.go repeats the same numbers and the same hash;
// change all three together, or the ratios compare different work.

#ifndef GORO_BENCH_PEER_WORKLOADS_H_
#define GORO_BENCH_PEER_WORKLOADS_H_

#include <cstdint>

namespace goro_bench {

inline constexpr int64_t kContextIters = 5'000'000;  // resumes, 2 switches each
inline constexpr int64_t kYieldIters = 500'000;      // yields per goroutine or fiber
inline constexpr int64_t kChanIters = 200'000;       // ping-pong round trips
inline constexpr int kFanOutChunks = 256;            // fan-out work items
inline constexpr int64_t kFanOutIters = 100'000;     // hash rounds per chunk

// goro_bench::HashChunk is the fan-out's unit of work: a serial chain of splitmix64 rounds
// (each depends on the last, so nothing vectorises), as hashChunk in peer_bench.go.
inline uint64_t HashChunk(uint64_t seed, int64_t iters) {
  uint64_t x = seed;
  for (int64_t i = 0; i < iters; ++i) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    x ^= x >> 31;
  }
  return x;
}

}  // namespace goro_bench

#endif  // GORO_BENCH_PEER_WORKLOADS_H_

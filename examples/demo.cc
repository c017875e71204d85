// The README's main job: Go's concurrent prime sieve, then a fan-out/fan-in over a few
// hundred thousand goroutines, on goro. Honours GORODEBUG (try schedtrace=100) and
// --gorodebug; prints a short summary.

#include <cstdint>
#include <cstdio>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/time/clock.h"
#include "runtime/chan.h"
#include "runtime/goro.h"
#include "runtime/sync.h"

ABSL_FLAG(int, primes, 1000, "how many primes the sieve finds");
ABSL_FLAG(int, tasks, 200000, "goroutines in the fan-out");
ABSL_FLAG(int, workers, 64, "worker goroutines that fan the results back in");
ABSL_FLAG(int, procs, 0, "Ps (0: GOROMAXPROCS or the CPU count)");

namespace {

// Go's sieve: a generator feeds 2, 3, 4, ...; each prime found adds a filter goroutine.
std::vector<int> Sieve(int count) {
  std::vector<int> primes;
  goro::Chan<int> ch(0);
  goro::Go([ch] {
    for (int i = 2;; ++i) ch.Send(i);
  });
  for (int i = 0; i < count; ++i) {
    int prime = *ch.Receive();
    primes.push_back(prime);
    goro::Chan<int> next(0);
    goro::Go([in = ch, out = next, prime] {
      for (;;) {
        int v = *in.Receive();
        if (v % prime != 0) out.Send(v);
      }
    });
    ch = next;
  }
  return primes;  // the filter chain is abandoned when main returns, as in Go
}

// One goroutine per task hashes its number and sends the result to a buffered channel;
// a pool of workers folds the results into per-worker sums.
uint64_t FanOutFanIn(int tasks, int workers, int64_t* max_live) {
  goro::Chan<uint64_t> results(1024);
  goro::WaitGroup producers;
  producers.Add(tasks);
  for (int i = 0; i < tasks; ++i) {
    goro::Go([&, i] {
      uint64_t x = static_cast<uint64_t>(i) * 0x9e3779b97f4a7c15ULL;
      for (int r = 0; r < 64; ++r) x = (x ^ (x >> 31)) * 0xbf58476d1ce4e5b9ULL;
      results.Send(x);
      producers.Done();
    });
  }
  std::vector<uint64_t> sums(static_cast<size_t>(workers));
  goro::WaitGroup consumers;
  consumers.Add(workers);
  for (int w = 0; w < workers; ++w) {
    goro::Go([&, w] {
      uint64_t v;
      while (results.Receive(&v)) sums[static_cast<size_t>(w)] += v;
      consumers.Done();
    });
  }
  *max_live = tasks + workers;
  producers.Wait();
  results.Close();
  consumers.Wait();
  uint64_t total = 0;
  for (uint64_t s : sums) total += s;
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  goro::RunOptions options;
  options.procs = absl::GetFlag(FLAGS_procs);
  goro::Run([] {
    absl::Time start = absl::Now();
    std::vector<int> primes = Sieve(absl::GetFlag(FLAGS_primes));
    absl::Duration sieve_time = absl::Now() - start;
    std::printf("sieve: %zu primes, the last is %d (%.1f ms, one goroutine per prime)\n",
                primes.size(), primes.empty() ? 0 : primes.back(),
                absl::ToDoubleMilliseconds(sieve_time));

    start = absl::Now();
    int64_t live = 0;
    uint64_t total = FanOutFanIn(absl::GetFlag(FLAGS_tasks), absl::GetFlag(FLAGS_workers), &live);
    absl::Duration fan_time = absl::Now() - start;
    std::printf("fan-out/fan-in: %d goroutines, checksum %016llx (%.1f ms)\n",
                absl::GetFlag(FLAGS_tasks) + absl::GetFlag(FLAGS_workers),
                static_cast<unsigned long long>(total), absl::ToDoubleMilliseconds(fan_time));
  }, options);
  std::printf("done\n");
  return 0;
}

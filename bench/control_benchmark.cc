// The control socket's goals (docs/control.md, "Tests and benchmarks"):
//   BM_ControlSocket_SetTakesEffect  a set through the socket is live for the program's
//                                    goroutines in <= 10 ms (median of 100)
//   BM_ControlSocket_ListWithGoroutines  list answers in <= 5 ms with 100,000 live goroutines
//
// Both run inside one goro::Run with --goroutines parked goroutines (each blocked on a
// channel receive). The client is a thread of this process talking to the process's own
// socket through goro::control::Client, with a fresh connection per request as `gorodebug
// --pid` makes: socket lookup, connect, request, reply, close. Not included: starting a
// gorodebug process (exec and dynamic linking, a few ms, the same for any command).
//
// "Takes effect" is measured from the moment the client starts to connect until a
// goroutine (spinning on the setting with Yield, as a hot path reads it: one relaxed load)
// sees the new value; the set alternates tracecheckstackownership between 1 and 0. The
// list timing is from connect to the parsed reply.
//
//   bazel run --config=opt //bench:control_benchmark -- --reps=100 --goroutines=100000

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/time/clock.h"
#include "control/client.h"
#include "control/server.h"
#include "runtime/chan.h"
#include "runtime/goro.h"
#include "runtime/settings.h"
#include "runtime/sync.h"

ABSL_FLAG(int, reps, 100, "requests per measurement (the median is reported)");
ABSL_FLAG(int, goroutines, 100000, "parked goroutines alive during the measurements");

namespace {

using goro::control::Client;
using goro::control::Op;
using goro::control::Request;

double MedianMs(std::vector<absl::Duration> v) {
  std::sort(v.begin(), v.end());
  return absl::ToDoubleMilliseconds(v[v.size() / 2]);
}

double MaxMs(const std::vector<absl::Duration>& v) {
  return absl::ToDoubleMilliseconds(*std::max_element(v.begin(), v.end()));
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const int reps = std::max(1, absl::GetFlag(FLAGS_reps));
  const int n = std::max(0, absl::GetFlag(FLAGS_goroutines));
  int failures = 0;
  goro::Run([&] {
    goro::Chan<int> release(size_t{0});  // unbuffered: every parked goroutine waits on it
    goro::WaitGroup parked_done;
    parked_done.Add(n);
    for (int i = 0; i < n; ++i) {
      goro::Go([&] {
        release.Receive();
        parked_done.Done();
      });
    }
    // The watcher: publishes each value of the setting it sees, with when it saw it.
    std::atomic<bool> stop{false};
    std::atomic<int> seen{-1};
    std::atomic<int64_t> seen_at_ns{0};
    goro::WaitGroup watcher_done;
    watcher_done.Add(1);
    goro::Go([&] {
      int last = -1;
      while (!stop.load(std::memory_order_relaxed)) {
        int v = goro::debug::tracecheckstackownership.Get() ? 1 : 0;
        if (v != last) {
          last = v;
          seen_at_ns.store(absl::GetCurrentTimeNanos(), std::memory_order_relaxed);
          // Release: seen_at_ns is written before the value that announces it.
          seen.store(v, std::memory_order_release);
        }
        goro::Yield();
      }
      watcher_done.Done();
    });
    const pid_t pid = getpid();
    std::vector<absl::Duration> set_times, list_times;
    std::thread client([&] {
      for (int i = 0; i < reps; ++i) {
        int want = (i % 2 == 0) ? 1 : 0;
        absl::Time start = absl::Now();
        auto c = Client::Connect(pid);
        Request r(Op::kSet);
        r.key = "tracecheckstackownership";
        r.value = want ? "1" : "0";
        r.reason = "control_benchmark";
        absl::Status st = c.ok() ? (*c)->Call(r).status() : c.status();
        if (!st.ok()) {
          std::fprintf(stderr, "set failed: %s\n", std::string(st.message()).c_str());
          ++failures;
          return;
        }
        // Acquire: pairs with the watcher's release store of `seen`.
        while (seen.load(std::memory_order_acquire) != want) {
          std::this_thread::yield();
        }
        set_times.push_back(absl::FromUnixNanos(seen_at_ns.load(std::memory_order_relaxed)) -
                            start);
      }
      for (int i = 0; i < reps; ++i) {
        absl::Time start = absl::Now();
        auto c = Client::Connect(pid);
        absl::Status st = c.ok() ? (*c)->Call(Request(Op::kList)).status() : c.status();
        if (!st.ok()) {
          std::fprintf(stderr, "list failed: %s\n", std::string(st.message()).c_str());
          ++failures;
          return;
        }
        list_times.push_back(absl::Now() - start);
      }
    });
    goro::BlockingCall([&] { client.join(); });
    stop.store(true, std::memory_order_relaxed);
    watcher_done.Wait();
    release.Close();
    parked_done.Wait();
    if (!set_times.empty()) {
      std::printf("BM_ControlSocket_SetTakesEffect\tgoroutines=%d\treps=%zu\tmedian_ms=%.3f\t"
                  "max_ms=%.3f\tgoal_ms=10\n",
                  n, set_times.size(), MedianMs(set_times), MaxMs(set_times));
    }
    if (!list_times.empty()) {
      std::printf("BM_ControlSocket_ListWithGoroutines\tgoroutines=%d\treps=%zu\tmedian_ms=%.3f\t"
                  "max_ms=%.3f\tgoal_ms=5\n",
                  n, list_times.size(), MedianMs(list_times), MaxMs(list_times));
    }
  });
  return failures == 0 ? 0 : 1;
}

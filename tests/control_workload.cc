// A running goro program for the control-socket tests (control_tool_test.sh): worker
// goroutines passing a token around a ring of channels, plus sleepers, until stdin closes.
// It prints "ready PID" once its control socket serves, and a line whenever a goroutine
// sees tracecheckstackownership change (the setting read on the goroutines' own path, as
// the tracer reads it), with the origin the registry recorded.
//
//   control_workload [GOROUTINES]      default 64; GOROTRACE=path traces the run

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "control/server.h"
#include "debugvars/registry.h"
#include "runtime/chan.h"
#include "runtime/goro.h"
#include "runtime/settings.h"
#include "runtime/sync.h"

int main(int argc, char** argv) {
  int n = 64;
  if (argc > 1 && (!absl::SimpleAtoi(argv[1], &n) || n < 2)) {
    std::fprintf(stderr, "usage: control_workload [GOROUTINES >= 2]\n");
    return 2;
  }
  std::atomic<bool> stop{false};
  goro::Run([&] {
    std::vector<goro::Chan<int>> ring;
    for (int i = 0; i < n; ++i) ring.emplace_back(1);
    goro::WaitGroup done;
    done.Add(n);
    for (int i = 0; i < n; ++i) {
      goro::Go([&, i] {
        bool seen = goro::debug::tracecheckstackownership.Get();
        for (;;) {
          std::optional<int> token = ring[static_cast<size_t>(i)].Receive();
          if (stop.load(std::memory_order_relaxed)) {
            // Pass the token on so the next goroutine sees stop too; the last send lands in
            // a buffer whose receiver has gone, which a channel of capacity 1 allows.
            ring[static_cast<size_t>((i + 1) % n)].Send(*token);
            done.Done();
            return;
          }
          bool now = goro::debug::tracecheckstackownership.Get();
          if (now != seen) {
            seen = now;
            auto* s = goro::debugvars::Registry::Global().Find("tracecheckstackownership");
            std::string origin;
            for (const auto& snap : goro::debugvars::Registry::Global().Snapshot()) {
              if (snap.name == "tracecheckstackownership") {
                origin = std::string(goro::debugvars::OriginName(snap.origin)) + " (" +
                         snap.origin_detail + ") reason \"" + snap.last_reason + "\"";
              }
            }
            std::printf("workload: goroutine %lld saw tracecheckstackownership=%s from %s\n",
                        static_cast<long long>(goro::CurrentId()), s->ValueString().c_str(),
                        origin.c_str());
            std::fflush(stdout);
          }
          ring[static_cast<size_t>((i + 1) % n)].Send(*token + 1);
        }
      });
    }
    ring[0].Send(0);
    std::printf("ready %d %s\n", static_cast<int>(getpid()),
                goro::control::RunningServerPath().c_str());
    std::fflush(stdout);
    // Until stdin closes (the test closes its end of a fifo).
    char buf[64];
    while (goro::BlockingCall([&] { return read(0, buf, sizeof(buf)); }) > 0) {
    }
    stop.store(true, std::memory_order_relaxed);
    done.Wait();
  });
  return 0;
}

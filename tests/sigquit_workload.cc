// A program for sigquit_test.sh: one goroutine blocked on a channel in a named function,
// "ready" on stdout once it is parked, then the main goroutine waits in a blocking read of
// stdin and exits 0 at end of input. Usage: sigquit_workload

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "absl/base/attributes.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "runtime/chan.h"
#include "runtime/g.h"
#include "runtime/goro.h"
#include "tests/parked.h"

namespace {

// `c` by reference (to the goroutine's captured copy): main may return while this goroutine
// is still on its way out of Receive, and Run then drops the goroutine's stack without
// running its frames' destructors, so a copy held by a frame would leak the channel
// (LeakSanitizer). Run destroys the captures themselves.
ABSL_ATTRIBUTE_NOINLINE void WaitForeverOnChannel(const goro::Chan<int>& c,
                                                  std::atomic<goro::G*>* self) {
  self->store(goro::runtime_internal::CurrentG());
  c.Receive();
}

}  // namespace

int main() {
  goro::Run([] {
    goro::Chan<int> c(0);
    std::atomic<goro::G*> blocked{nullptr};
    goro::Go([c, &blocked] { WaitForeverOnChannel(c, &blocked); });
    uint32_t status = 0;
    goro::WaitReason seen = goro::WaitReason::kZero;
    const absl::Time deadline = absl::Now() + absl::Minutes(1);
    while (!goro::testing_internal::IsParked(blocked.load(), goro::WaitReason::kChanReceive,
                                             &status, &seen)) {
      if (absl::Now() > deadline) std::abort();
      goro::Sleep(absl::Microseconds(100));
    }
    std::printf("ready\n");
    std::fflush(stdout);
    char buf[64];
    while (goro::BlockingCall([&] { return read(0, buf, sizeof(buf)); }) > 0) {
    }
    c.Send(1);
  });
  return 0;
}

// A traced program that does a little of everything Go 1.19's tools show, for
// go119_export_test.sh: a blocking call that loses its P, select, Cond, Sleep, Mutex
// contention, channel sends and receives, two collections, and a task with nested regions
// and logs. Usage: go119_workload TRACE_PATH [PROCS]

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/base/attributes.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gc/gc.h"
#include "runtime/chan.h"
#include "runtime/g.h"
#include "runtime/goro.h"
#include "runtime/select.h"
#include "runtime/sync.h"
#include "tests/parked.h"
#include "tracer/trace.h"

namespace {

// AwaitParked waits until the goroutine published in `g` is parked with `reason`, so that
// each blocking event the test looks for happens on every run, however slowly the
// goroutines are scheduled (under TSan, on one P). A sleep would only make it likely. Ends
// the program if it does not happen within a minute: only a bug gets there.
void AwaitParked(const std::atomic<goro::G*>& g, goro::WaitReason reason) {
  const absl::Time deadline = absl::Now() + absl::Minutes(1);
  uint32_t status = 0;
  goro::WaitReason seen = goro::WaitReason::kZero;
  while (!goro::testing_internal::IsParked(g.load(), reason, &status, &seen)) {
    if (absl::Now() > deadline) {
      std::fprintf(stderr, "go119_workload: a goroutine never parked with reason \"%s\"\n",
                   goro::WaitReasonString(reason));
      std::abort();
    }
    goro::Sleep(absl::Microseconds(100));
  }
}

// Each workload is a named function, kept out of line, so that stacks and profiles name it.

// Reads from a pipe that another goroutine writes to only after 100 ms, long enough for
// sysmon to hand the reader's P to another thread.
ABSL_ATTRIBUTE_NOINLINE void ReadPipeSlowly(goro::WaitGroup* wg) {
  int fds[2];
  if (pipe(fds) != 0) std::abort();
  goro::Go([fd = fds[1], wg] {
    goro::Sleep(absl::Milliseconds(100));
    char c = 'x';
    if (goro::BlockingCall([&] { return write(fd, &c, 1); }) != 1) std::abort();
    wg->Done();
  });
  char c = 0;
  if (goro::BlockingCall([&] { return read(fds[0], &c, 1); }) != 1) std::abort();
  close(fds[0]);
  close(fds[1]);
  wg->Done();
}

ABSL_ATTRIBUTE_NOINLINE void SelectOnTwoChannels(goro::WaitGroup* wg) {
  goro::Chan<int> a(0), b(0);
  std::atomic<goro::G*> self{goro::runtime_internal::CurrentG()};
  goro::WaitGroup inner;
  inner.Add(1);
  goro::Go([b, &self, &inner] {
    AwaitParked(self, goro::WaitReason::kSelect);
    b.Send(2);
    inner.Done();
  });
  int v = 0;
  if (goro::Select({goro::OnRecv(a, &v), goro::OnRecv(b, &v)}) != 1) std::abort();
  inner.Wait();
  wg->Done();
}

ABSL_ATTRIBUTE_NOINLINE void WaitOnCond(goro::WaitGroup* wg) {
  goro::Mutex mu;
  goro::Cond cond(&mu);
  bool ready = false;
  std::atomic<goro::G*> self{goro::runtime_internal::CurrentG()};
  goro::WaitGroup inner;
  inner.Add(1);
  goro::Go([&] {
    AwaitParked(self, goro::WaitReason::kSyncCondWait);
    mu.Lock();
    ready = true;
    mu.Unlock();
    cond.Signal();
    inner.Done();
  });
  mu.Lock();
  while (!ready) cond.Wait();
  mu.Unlock();
  inner.Wait();
  wg->Done();
}

// Holds the mutex until the first of four contenders is parked on it, so that each run has
// a goroutine blocked on a Mutex.
ABSL_ATTRIBUTE_NOINLINE void ContendOnMutex(goro::WaitGroup* wg) {
  goro::Mutex mu;
  goro::WaitGroup inner;
  std::atomic<goro::G*> first{nullptr};
  mu.Lock();
  for (int i = 0; i < 4; ++i) {
    inner.Add(1);
    goro::Go([&, i] {
      if (i == 0) first.store(goro::runtime_internal::CurrentG());
      mu.Lock();
      goro::Sleep(absl::Milliseconds(1));
      mu.Unlock();
      inner.Done();
    });
  }
  AwaitParked(first, goro::WaitReason::kSyncMutexLock);
  mu.Unlock();
  inner.Wait();
  wg->Done();
}

// The receiver takes its first value only once the sender is parked in Send.
ABSL_ATTRIBUTE_NOINLINE void SendAndReceive(goro::WaitGroup* wg) {
  goro::Chan<int> c(0);
  std::atomic<goro::G*> sender{nullptr};
  goro::Go([c, &sender] {
    sender.store(goro::runtime_internal::CurrentG());
    for (int i = 0; i < 10; ++i) c.Send(i);
    c.Close();
  });
  AwaitParked(sender, goro::WaitReason::kChanSend);
  while (c.Receive().has_value()) goro::Sleep(absl::Milliseconds(1));
  wg->Done();
}

ABSL_ATTRIBUTE_NOINLINE void Annotate(goro::WaitGroup* wg) {
  goro::trace::Task order("order");
  {
    goro::trace::Region outer("prepare", &order);
    goro::trace::Log("order", "id=42", &order);
    {
      goro::trace::Region inner("weigh", &order);
      goro::Sleep(absl::Milliseconds(2));
    }
  }
  goro::trace::Task child("ship", &order);
  goro::trace::Log("ship", "to=home", &child);
  child.End();
  order.End();
  wg->Done();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: go119_workload TRACE_PATH [PROCS]\n");
    return 2;
  }
  const std::string path = argv[1];
  goro::RunOptions options;
  options.procs = argc == 3 ? std::atoi(argv[2]) : 2;
  int rc = 0;
  goro::Run(
      [&] {
        if (absl::Status s = goro::trace::Start(path); !s.ok()) {
          std::fprintf(stderr, "go119_workload: %s\n", std::string(s.message()).c_str());
          rc = 1;
          return;
        }
        goro::WaitGroup wg;
        wg.Add(7);
        goro::Go([&] { ReadPipeSlowly(&wg); });
        goro::Go([&] { SelectOnTwoChannels(&wg); });
        goro::Go([&] { WaitOnCond(&wg); });
        goro::Go([&] { ContendOnMutex(&wg); });
        goro::Go([&] { SendAndReceive(&wg); });
        goro::Go([&] { Annotate(&wg); });
        goro::Sleep(absl::Milliseconds(10));
        for (int i = 0; i < 2; ++i) {
          if (!goro::gc::Collect().ok()) rc = 1;
        }
        wg.Wait();
        if (absl::Status s = goro::trace::Stop(); !s.ok()) {
          std::fprintf(stderr, "go119_workload: %s\n", std::string(s.message()).c_str());
          rc = 1;
        }
      },
      options);
  return rc;
}

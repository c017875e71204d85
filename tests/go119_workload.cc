// A traced program that does a little of everything Go 1.19's tools show, for
// go119_export_test.sh: a blocking call that loses its P, select, Cond, Sleep, Mutex
// contention, channel sends and receives, two collections, and a task with nested regions
// and logs. Usage: go119_workload TRACE_PATH [PROCS]

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/base/attributes.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gc/gc.h"
#include "runtime/chan.h"
#include "runtime/goro.h"
#include "runtime/select.h"
#include "runtime/sync.h"
#include "tracer/trace.h"

namespace {

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
  goro::Go([b] {
    goro::Sleep(absl::Milliseconds(20));
    b.Send(2);
  });
  int v = 0;
  if (goro::Select({goro::OnRecv(a, &v), goro::OnRecv(b, &v)}) != 1) std::abort();
  wg->Done();
}

ABSL_ATTRIBUTE_NOINLINE void WaitOnCond(goro::WaitGroup* wg) {
  goro::Mutex mu;
  goro::Cond cond(&mu);
  bool ready = false;
  goro::WaitGroup inner;
  inner.Add(1);
  goro::Go([&] {
    goro::Sleep(absl::Milliseconds(20));
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

ABSL_ATTRIBUTE_NOINLINE void ContendOnMutex(goro::WaitGroup* wg) {
  goro::Mutex mu;
  goro::WaitGroup inner;
  for (int i = 0; i < 4; ++i) {
    inner.Add(1);
    goro::Go([&] {
      mu.Lock();
      goro::Sleep(absl::Milliseconds(5));
      mu.Unlock();
      inner.Done();
    });
  }
  inner.Wait();
  wg->Done();
}

ABSL_ATTRIBUTE_NOINLINE void SendAndReceive(goro::WaitGroup* wg) {
  goro::Chan<int> c(0);
  goro::Go([c] {
    for (int i = 0; i < 10; ++i) c.Send(i);
    c.Close();
  });
  goro::Sleep(absl::Milliseconds(5));
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

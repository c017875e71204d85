// A small, dependency-free (no GoogleTest) check of the context switch, built by
// test_aarch64.sh for AArch64 and run under qemu-user: ping-pong with callee-saved values
// live, a frame-pointer walk of a parked context, and migration between two threads.

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "runtime/arch/context.h"
#include "runtime/arch/context_switch.h"

namespace {

constexpr size_t kStackBytes = 256 * 1024;
alignas(16) char g_stack[kStackBytes];

int g_failures = 0;

// pthread_self() is declared const, so a compiler may reuse one call's result across a
// switch that migrated the caller (the hazard of DESIGN.md 8); noipa keeps this honest.
__attribute__((noipa)) long ThreadId() { return syscall(SYS_gettid); }

void Check(bool ok, const char* what) {
  std::printf("%s: %s\n", ok ? "ok  " : "FAIL", what);
  if (!ok) ++g_failures;
}

struct State {
  goro::Context main;
  goro::Context co;
  goro::Context* back = nullptr;
  int count = 0;
  bool registers_ok = true;
  uintptr_t return_into_outer = 0;
  long thread_before = 0;
  long thread_after = 0;
};

__attribute__((noinline)) void Inner(State* s) {
  s->return_into_outer = reinterpret_cast<uintptr_t>(__builtin_return_address(0));
  goro::SwitchContext(&s->co, s->back);
  asm volatile("" ::: "memory");
}

__attribute__((noinline)) void Outer(State* s) {
  Inner(s);
  asm volatile("" ::: "memory");
}

void Entry(void* arg) {
  auto* s = static_cast<State*>(arg);
  uint64_t a = 1, b = 2, c = 3, d = 4;
  double x = 0.5, y = 0.25;
  for (int i = 0; i < 1000; ++i) {
    ++s->count;
    a += 1;
    b += 2;
    c += 3;
    d += 4;
    x += 1.0;
    y += 2.0;
    goro::SwitchContext(&s->co, s->back);
  }
  s->registers_ok = a == 1001 && b == 2002 && c == 3003 && d == 4004 && x == 1000.5 &&
                    y == 2000.25;
  Outer(s);  // Parks inside Inner for the frame walk.
  s->thread_before = ThreadId();
  goro::SwitchContext(&s->co, s->back);  // Resumed by another thread.
  s->thread_after = ThreadId();
  goro::SwitchContextFinal(&s->co, s->back);
}

}  // namespace

int main() {
  State s;
  s.main.InitForCurrentThread();
  s.back = &s.main;
  const auto lo = reinterpret_cast<uintptr_t>(g_stack);
  const uintptr_t hi = lo + kStackBytes;
  s.co.InitOnStack(lo, hi, &Entry, &s);
  Check(s.co.SavedFramePointer() == 0, "a new context has a null frame pointer");
  Check(s.co.SavedPc() == reinterpret_cast<uintptr_t>(&goro_arch_trampoline),
        "a new context resumes in the trampoline");

  bool alternated = true;
  for (int i = 1; i <= 1000; ++i) {
    goro::SwitchContext(&s.main, &s.co);
    alternated &= s.count == i;
  }
  Check(alternated, "ping-pong alternates 1000 times");
  goro::SwitchContext(&s.main, &s.co);  // Finishes the loop and parks in Inner.
  Check(s.registers_ok, "callee-saved integer and FP values survive switches");

  // Walk the parked context's frame records.
  uintptr_t fp = s.co.SavedFramePointer();
  bool found_outer = false;
  bool terminated = false;
  for (int depth = 0; depth < 32; ++depth) {
    if (fp == 0) {
      terminated = true;
      break;
    }
    if (fp < lo || fp >= hi) break;
    const auto* record = reinterpret_cast<const uintptr_t*>(fp);
    found_outer |= record[1] == s.return_into_outer || s.co.SavedPc() == s.return_into_outer;
    fp = record[0];
  }
  Check(terminated, "the frame-pointer walk ends at the first frame");
  Check(found_outer, "the walk finds the return address into Outer");

  goro::SwitchContext(&s.main, &s.co);  // Parks again, recording this thread.
  std::thread other([&s] {
    goro::Context sched;
    sched.InitForCurrentThread();
    s.back = &sched;
    goro::SwitchContext(&sched, &s.co);
  });
  other.join();
  Check(s.thread_before == ThreadId() && s.thread_after != ThreadId() && s.thread_after != 0,
        "the context resumes on another thread");

  std::printf("%d passed, %d failed\n", 7 - g_failures, g_failures);
  return g_failures == 0 ? 0 : 1;
}

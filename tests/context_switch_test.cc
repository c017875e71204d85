// Tests for goro::Context / goro::SwitchContext: ping-pong, many contexts, FP/PC of a
// parked context, migration between OS threads, exception state across a switch.

#include "runtime/arch/context_switch.h"

#include <cfenv>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/attributes.h"
#include "gtest/gtest.h"
#include "runtime/arch/context.h"
#include "runtime/arch/exception_state.h"

namespace goro {
namespace {

constexpr size_t kStackBytes = 256 * 1024;

// A heap-allocated stack for a test context.
class TestStack {
 public:
  TestStack() : bytes_(new char[kStackBytes]) {}
  uintptr_t lo() const { return reinterpret_cast<uintptr_t>(bytes_.get()); }
  uintptr_t hi() const { return lo() + kStackBytes; }

 private:
  std::unique_ptr<char[]> bytes_;
};

ABSL_ATTRIBUTE_NOINLINE long ThreadId() { return syscall(SYS_gettid); }

// --- Ping-pong ---------------------------------------------------------------------

struct PingPong {
  Context main;
  Context co;
  int count = 0;
  bool done = false;
  double fp_value = 1.0;
};

void PingPongEntry(void* arg) {
  auto* p = static_cast<PingPong*>(arg);
  // Values kept live across switches: the compiler keeps some in callee-saved registers.
  uint64_t a = 0x1111, b = 0x2222, c = 0x3333, d = 0x4444, e = 0x5555;
  double x = 1.5;
  while (!p->done) {
    ++p->count;
    a += 1;
    b += 2;
    c += 3;
    d += 4;
    e += 5;
    x *= 1.0;
    SwitchContext(&p->co, &p->main);
  }
  const uint64_t n = static_cast<uint64_t>(p->count);
  p->fp_value = (a == 0x1111 + n && b == 0x2222 + 2 * n && c == 0x3333 + 3 * n &&
                 d == 0x4444 + 4 * n && e == 0x5555 + 5 * n)
                    ? x
                    : -1.0;
  SwitchContextFinal(&p->co, &p->main);
}

TEST(ContextSwitch, PingPongAlternatesAndPreservesRegisters) {
  TestStack stack;
  PingPong p;
  p.main.InitForCurrentThread();
  p.co.InitOnStack(stack.lo(), stack.hi(), &PingPongEntry, &p);
  uint64_t mine = 0;
  for (int i = 1; i <= 10000; ++i) {
    mine += static_cast<uint64_t>(i);
    SwitchContext(&p.main, &p.co);
    ASSERT_EQ(p.count, i);
  }
  p.done = true;
  SwitchContext(&p.main, &p.co);
  EXPECT_EQ(mine, 10000ull * 10001 / 2);
  EXPECT_EQ(p.fp_value, 1.5);
}

// --- Floating-point control is per context -----------------------------------------

struct RoundingModes {
  Context main;
  Context co;
  int co_mode_after_switch = -1;
};

void RoundingEntry(void* arg) {
  auto* r = static_cast<RoundingModes*>(arg);
  std::fesetround(FE_UPWARD);
  SwitchContext(&r->co, &r->main);
  r->co_mode_after_switch = std::fegetround();
  std::fesetround(FE_TONEAREST);
  SwitchContextFinal(&r->co, &r->main);
}

TEST(ContextSwitch, RoundingModeIsSavedPerContext) {
  TestStack stack;
  RoundingModes r;
  ASSERT_EQ(std::fegetround(), FE_TONEAREST);
  r.main.InitForCurrentThread();
  r.co.InitOnStack(stack.lo(), stack.hi(), &RoundingEntry, &r);
  SwitchContext(&r.main, &r.co);
  EXPECT_EQ(std::fegetround(), FE_TONEAREST);  // The co context's change did not leak.
  SwitchContext(&r.main, &r.co);
  EXPECT_EQ(r.co_mode_after_switch, FE_UPWARD);
  EXPECT_EQ(std::fegetround(), FE_TONEAREST);
}

// --- Many contexts, switching directly to each other ---------------------------------

struct Ring {
  Context main;
  std::vector<std::unique_ptr<Context>> contexts;
  std::vector<int> visits;
  int rounds = 0;
};

struct RingMember {
  Ring* ring;
  size_t index;
};

void RingEntry(void* arg) {
  auto* m = static_cast<RingMember*>(arg);
  Ring* ring = m->ring;
  const size_t n = ring->contexts.size();
  for (int round = 0; round < ring->rounds; ++round) {
    ++ring->visits[m->index];
    // The last member hands back to main; everyone else to the next member.
    Context* next = m->index + 1 < n ? ring->contexts[m->index + 1].get() : &ring->main;
    SwitchContext(ring->contexts[m->index].get(), next);
  }
  SwitchContextFinal(ring->contexts[m->index].get(), &ring->main);
}

TEST(ContextSwitch, ManyContextsSwitchDirectlyToEachOther) {
  constexpr size_t kContexts = 500;
  Ring ring;
  ring.rounds = 20;
  ring.visits.assign(kContexts, 0);
  std::vector<TestStack> stacks(kContexts);
  std::vector<RingMember> members(kContexts);
  ring.main.InitForCurrentThread();
  for (size_t i = 0; i < kContexts; ++i) {
    members[i] = RingMember{&ring, i};
    ring.contexts.push_back(std::make_unique<Context>());
    ring.contexts[i]->InitOnStack(stacks[i].lo(), stacks[i].hi(), &RingEntry, &members[i]);
  }
  for (int round = 0; round < ring.rounds; ++round) {
    SwitchContext(&ring.main, ring.contexts[0].get());
  }
  for (size_t i = 0; i < kContexts; ++i) {
    ASSERT_EQ(ring.visits[i], ring.rounds) << "context " << i;
    SwitchContext(&ring.main, ring.contexts[i].get());  // Each finishes with a final switch.
  }
}

// --- Frame pointers of a parked context ----------------------------------------------

struct Parked {
  Context main;
  Context co;
  uintptr_t return_into_outer = 0;  // Return address of Inner's call, inside Outer.
  uintptr_t return_into_entry = 0;  // Return address of Outer's call, inside the entry.
  bool done = false;
};

ABSL_ATTRIBUTE_NOINLINE void Inner(Parked* p) {
  p->return_into_outer = reinterpret_cast<uintptr_t>(__builtin_return_address(0));
  SwitchContext(&p->co, &p->main);
  asm volatile("" ::: "memory");  // Keep the call above from becoming a tail call.
}

ABSL_ATTRIBUTE_NOINLINE void Outer(Parked* p) {
  p->return_into_entry = reinterpret_cast<uintptr_t>(__builtin_return_address(0));
  Inner(p);
  asm volatile("" ::: "memory");
}

void ParkedEntry(void* arg) {
  auto* p = static_cast<Parked*>(arg);
  Outer(p);
  SwitchContextFinal(&p->co, &p->main);
}

// Walks frame records from (pc, fp) as the tracer will: every frame pointer must lie in
// [lo, hi), be 8-aligned and strictly increase; the walk ends at a null frame pointer.
std::vector<uintptr_t> WalkFrames(uintptr_t pc, uintptr_t fp, uintptr_t lo, uintptr_t hi,
                                  bool* terminated) {
  std::vector<uintptr_t> pcs = {pc};
  *terminated = false;
  for (int depth = 0; depth < 64; ++depth) {
    if (fp == 0) {
      *terminated = true;
      break;
    }
    if (fp < lo || fp + 16 > hi || fp % 8 != 0) break;
    const auto* record = reinterpret_cast<const uintptr_t*>(fp);
    const uintptr_t next = record[arch_internal::kFrameRecordNextOffset / 8];
    const uintptr_t ret = record[arch_internal::kFrameRecordPcOffset / 8];
    if (ret != 0) pcs.push_back(ret);
    if (next != 0 && next <= fp) break;
    fp = next;
  }
  return pcs;
}

TEST(ContextSwitch, NewContextHasNullFramePointerAndTrampolinePc) {
  TestStack stack;
  Context co;
  co.InitOnStack(stack.lo(), stack.hi(), &ParkedEntry, nullptr);
  EXPECT_EQ(co.SavedFramePointer(), 0u);
  EXPECT_EQ(co.SavedPc(), reinterpret_cast<uintptr_t>(&goro_arch_trampoline));
  EXPECT_GE(co.SavedSp(), stack.lo());
  EXPECT_LT(co.SavedSp(), stack.hi());
  EXPECT_EQ(co.SavedSp() % 8, 0u);
}

TEST(ContextSwitch, ParkedContextFramePointerChainIsWalkable) {
  TestStack stack;
  Parked p;
  p.main.InitForCurrentThread();
  p.co.InitOnStack(stack.lo(), stack.hi(), &ParkedEntry, &p);
  SwitchContext(&p.main, &p.co);  // Runs until Inner parks.

  EXPECT_GE(p.co.SavedSp(), stack.lo());
  EXPECT_LT(p.co.SavedSp(), stack.hi());
  EXPECT_GT(p.co.SavedFramePointer(), p.co.SavedSp());
  bool terminated = false;
  const std::vector<uintptr_t> pcs = WalkFrames(p.co.SavedPc(), p.co.SavedFramePointer(),
                                                stack.lo(), stack.hi(), &terminated);
  EXPECT_TRUE(terminated) << "the walk must end at the first frame's null frame pointer";
  bool found_outer = false;
  bool found_entry = false;
  for (uintptr_t pc : pcs) {
    found_outer |= pc == p.return_into_outer;
    found_entry |= pc == p.return_into_entry;
  }
  EXPECT_TRUE(found_outer) << "no frame returns into Outer; " << pcs.size() << " frames";
  EXPECT_TRUE(found_entry) << "no frame returns into ParkedEntry; " << pcs.size() << " frames";
  EXPECT_LE(pcs.size(), 16u);

  SwitchContext(&p.main, &p.co);  // Finish.
}

// --- Migration between OS threads ----------------------------------------------------

struct Migrating {
  Context co;
  Context* back = nullptr;  // The scheduler context of the thread that resumed us.
  long tid_before = 0;
  long tid_after = 0;
  int local_survived = 0;
};

void MigratingEntry(void* arg) {
  auto* m = static_cast<Migrating*>(arg);
  int local = 12345;
  m->tid_before = ThreadId();
  SwitchContext(&m->co, m->back);
  m->tid_after = ThreadId();
  m->local_survived = local;
  SwitchContextFinal(&m->co, m->back);
}

TEST(ContextSwitch, ContextMigratesBetweenThreads) {
  TestStack stack;
  Migrating m;
  m.co.InitOnStack(stack.lo(), stack.hi(), &MigratingEntry, &m);
  long first = 0;
  long second = 0;
  std::thread t1([&] {
    Context sched;
    sched.InitForCurrentThread();
    m.back = &sched;
    first = ThreadId();
    SwitchContext(&sched, &m.co);
  });
  t1.join();  // Join is the happens-before edge that publishes the parked context.
  std::thread t2([&] {
    Context sched;
    sched.InitForCurrentThread();
    m.back = &sched;
    second = ThreadId();
    SwitchContext(&sched, &m.co);
  });
  t2.join();
  EXPECT_NE(first, second);
  EXPECT_EQ(m.tid_before, first);
  EXPECT_EQ(m.tid_after, second);
  EXPECT_EQ(m.local_survived, 12345);
}

// --- Exceptions: parking inside a catch block ------------------------------------------

struct Catching {
  Context co;
  Context* back = nullptr;
  ExceptionState eh;  // The co context's exception state while it is not running.
  std::string caught_after_resume;
  bool had_current_exception = false;
};

void CatchingEntry(void* arg) {
  auto* c = static_cast<Catching*>(arg);
  try {
    try {
      throw std::runtime_error("from the goroutine");
    } catch (const std::runtime_error&) {
      SwitchContext(&c->co, c->back);  // Park inside the catch block.
      c->had_current_exception = std::current_exception() != nullptr;
      throw;  // Rethrow the exception caught before the switch.
    }
  } catch (const std::runtime_error& e) {
    c->caught_after_resume = e.what();
  }
  SwitchContextFinal(&c->co, c->back);
}

// Runs `c`'s context from the calling thread as a scheduler would: install the context's
// exception state, switch, save it back.
void RunCatching(Catching* c) {
  Context sched;
  sched.InitForCurrentThread();
  c->back = &sched;
  SwapExceptionState(&c->eh);
  SwitchContext(&sched, &c->co);
  SwapExceptionState(&c->eh);
}

TEST(ContextSwitch, SwitchInsideCatchBlockKeepsExceptionAcrossThreads) {
  TestStack stack;
  Catching c;
  c.co.InitOnStack(stack.lo(), stack.hi(), &CatchingEntry, &c);
  std::thread t1([&] {
    RunCatching(&c);  // Parks inside the catch.
    // This thread's own exception handling is unaffected by the parked catch.
    EXPECT_EQ(std::current_exception(), nullptr);
    try {
      throw 42;
    } catch (int v) {
      EXPECT_EQ(v, 42);
      EXPECT_NE(std::current_exception(), nullptr);
    }
    EXPECT_EQ(std::uncaught_exceptions(), 0);
  });
  t1.join();
  std::thread t2([&] {
    RunCatching(&c);  // Resumes inside the catch on another thread, rethrows, finishes.
    EXPECT_EQ(std::current_exception(), nullptr);
  });
  t2.join();
  EXPECT_TRUE(c.had_current_exception);
  EXPECT_EQ(c.caught_after_resume, "from the goroutine");
}

}  // namespace
}  // namespace goro

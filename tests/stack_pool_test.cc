// Tests for goro::StackPool and the stack-overflow handler: reuse, lazy commit, release
// below SP, guard modes (death tests name the goroutine), slab VMA economy, ENOMEM errors.

#include "runtime/stack_pool.h"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/arch/context_switch.h"
#include "runtime/arch/sanitizer.h"
#include "runtime/stack.h"
#include "runtime/stack_guard.h"
#include "runtime/stack_pool_test_peer.h"
#include "tests/stack_overflow_util.h"

namespace goro {
namespace {

using ::testing::HasSubstr;

size_t Page() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }

std::unique_ptr<StackPool> MakePool(StackGuardMode mode, size_t stack_bytes = 256 * 1024) {
  StackPoolOptions options;
  options.guard_mode = mode;
  options.stack_bytes = stack_bytes;
  absl::StatusOr<std::unique_ptr<StackPool>> pool = StackPool::Create(options);
  EXPECT_TRUE(pool.ok()) << pool.status();
  return *std::move(pool);
}

int CountMapsLines() {
  std::ifstream maps("/proc/self/maps");
  int lines = 0;
  for (std::string line; std::getline(maps, line);) ++lines;
  return lines;
}

bool PageResident(uintptr_t addr) {
  unsigned char v = 0;
  EXPECT_EQ(mincore(reinterpret_cast<void*>(addr & ~(Page() - 1)), Page(), &v), 0);
  return (v & 1) != 0;
}

TEST(StackPool, CreateRejectsBadOptions) {
  StackPoolOptions small;
  small.stack_bytes = 4096;
  EXPECT_EQ(StackPool::Create(small).status().code(), absl::StatusCode::kInvalidArgument);
  StackPoolOptions no_guard;
  no_guard.guard_bytes = 0;
  EXPECT_EQ(StackPool::Create(no_guard).status().code(), absl::StatusCode::kInvalidArgument);
  StackPoolOptions hot;
  hot.hot_bytes = 2 * hot.stack_bytes;
  EXPECT_EQ(StackPool::Create(hot).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(StackPool, ParseStackGuardModeRoundTrips) {
  for (StackGuardMode mode : {StackGuardMode::kAuto, StackGuardMode::kMadvise,
                              StackGuardMode::kMprotect, StackGuardMode::kOff}) {
    absl::StatusOr<StackGuardMode> parsed = ParseStackGuardMode(StackGuardModeName(mode));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, mode);
  }
  EXPECT_THAT(ParseStackGuardMode("bogus").status().message(), HasSubstr("\"bogus\""));
}

TEST(StackPool, FreedStackIsReusedFirst) {
  auto pool = MakePool(StackGuardMode::kAuto);
  absl::StatusOr<Stack*> a = pool->Allocate(7);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ((*a)->goid(), 7);
  EXPECT_EQ((*a)->size(), 256u * 1024);
  EXPECT_EQ((*a)->pool(), pool.get());
  absl::StatusOr<Stack*> b = pool->Allocate(8);
  ASSERT_TRUE(b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_EQ(pool->Stats().stacks_in_use, 2u);
  pool->Free(*a);
  EXPECT_EQ((*a)->goid(), 0);
  absl::StatusOr<Stack*> c = pool->Allocate(9);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, *a);
  EXPECT_EQ((*c)->goid(), 9);
  pool->Free(*b);
  pool->Free(*c);
  const StackPoolStats stats = pool->Stats();
  EXPECT_EQ(stats.stacks_in_use, 0u);
  EXPECT_EQ(stats.slabs, 1u);
  EXPECT_GT(stats.stacks_total, 100u);
  EXPECT_EQ(stats.guard_mode, StackGuardMode::kMadvise);  // This kernel has guard markers.
}

TEST(StackPool, StacksCommitLazilyAndFreeKeepsOnlyTheHotTop) {
  auto pool = MakePool(StackGuardMode::kAuto);
  Stack* s = *pool->Allocate(1);
  EXPECT_EQ(ResidentStackBytes(*s), 0u);
  std::memset(reinterpret_cast<void*>(s->hi() - 3 * Page()), 0xab, 3 * Page());
  EXPECT_EQ(ResidentStackBytes(*s), 3 * Page());
  std::memset(reinterpret_cast<void*>(s->lo()), 0xcd, s->size());
  EXPECT_EQ(ResidentStackBytes(*s), s->size());
  pool->Free(s);
  EXPECT_LE(ResidentStackBytes(*s), pool->options().hot_bytes);
  EXPECT_EQ(pool->Stats().hot_free_stacks, 1u);
  EXPECT_EQ(pool->Stats().free_committed_bytes_max, pool->options().hot_bytes);
}

// Past max_hot_free_stacks, a freed stack gives back its hot top too; reusing a hot stack
// makes room for the next.
TEST(StackPool, FreeKeepsAtMostMaxHotFreeStacksHot) {
  StackPoolOptions options;
  options.max_hot_free_stacks = 2;
  absl::StatusOr<std::unique_ptr<StackPool>> made = StackPool::Create(options);
  ASSERT_TRUE(made.ok()) << made.status();
  StackPool& pool = **made;
  std::vector<Stack*> stacks;
  for (int i = 0; i < 4; ++i) {
    stacks.push_back(*pool.Allocate(i + 1));
    std::memset(reinterpret_cast<void*>(stacks.back()->hi() - 4 * Page()), 0xab, 4 * Page());
  }
  for (Stack* s : stacks) pool.Free(s);
  EXPECT_EQ(pool.Stats().hot_free_stacks, 2u);
  EXPECT_EQ(ResidentStackBytes(*stacks[0]), 4 * Page());  // hot top kept (16 KiB)
  EXPECT_EQ(ResidentStackBytes(*stacks[1]), 4 * Page());
  EXPECT_EQ(ResidentStackBytes(*stacks[2]), 0u);  // past the bound: released whole
  EXPECT_EQ(ResidentStackBytes(*stacks[3]), 0u);
  EXPECT_EQ(pool.Stats().free_committed_bytes_max, 2 * pool.options().hot_bytes);
  // LIFO: the last freed (released whole) comes back first; a hot one later.
  std::vector<Stack*> again;
  for (int i = 0; i < 4; ++i) again.push_back(*pool.Allocate(10 + i));
  EXPECT_EQ(pool.Stats().hot_free_stacks, 0u);
  for (Stack* s : again) pool.Free(s);
}

TEST(StackPool, CommittedBytesCountsEverySlabsResidentPages) {
  auto pool = MakePool(StackGuardMode::kAuto);
  EXPECT_EQ(pool->CommittedBytes(), 0u);  // no slab yet
  Stack* a = *pool->Allocate(1);
  Stack* b = *pool->Allocate(2);
  EXPECT_EQ(pool->CommittedBytes(), 0u);  // reserved, not touched
  std::memset(reinterpret_cast<void*>(a->hi() - 5 * Page()), 1, 5 * Page());
  std::memset(reinterpret_cast<void*>(b->hi() - 2 * Page()), 2, 2 * Page());
  EXPECT_EQ(pool->CommittedBytes(), 7 * Page());
  // The per-stack count and the release agree with it.
  size_t below = 0;
  EXPECT_EQ(ResidentStackBytes(*a, a->hi() - 3 * Page(), &below), 5 * Page());
  EXPECT_EQ(below, 2 * Page());
  ReleaseStackPages(a, a->hi() - 3 * Page(), below);
  EXPECT_EQ(pool->CommittedBytes(), 5 * Page());
  EXPECT_EQ(pool->Stats().released_bytes, 2 * Page());
  pool->Free(a);
  pool->Free(b);
}

TEST(StackPool, ReleaseBelowSpReturnsPagesUnderSp) {
  auto pool = MakePool(StackGuardMode::kAuto);
  Stack* s = *pool->Allocate(3);
  std::memset(reinterpret_cast<void*>(s->lo()), 0x5a, s->size());
  const uintptr_t sp = s->lo() + s->size() / 2 + 100;
  const size_t released = ReleaseStackBelow(s, sp);
  const uintptr_t end = (sp - arch_internal::kStackRedZone - kDefaultStackReleaseMargin) &
                        ~(Page() - 1);
  EXPECT_EQ(released, end - s->lo());
  for (uintptr_t p = s->lo(); p < end; p += Page()) {
    ASSERT_FALSE(PageResident(p)) << "page at offset " << (p - s->lo());
  }
  for (uintptr_t p = end; p < s->hi(); p += Page()) {
    ASSERT_TRUE(PageResident(p)) << "page at offset " << (p - s->lo());
  }
  EXPECT_EQ(pool->Stats().released_bytes, released);
  // Nothing left to release, and an SP near lo releases nothing.
  EXPECT_EQ(ReleaseStackBelow(s, sp), 0u);
  EXPECT_EQ(ReleaseStackBelow(s, s->lo() + 64), 0u);
  // The range is still usable: released pages read back as zeros.
  EXPECT_EQ(*reinterpret_cast<volatile unsigned char*>(s->lo()), 0);
  EXPECT_EQ(*reinterpret_cast<volatile unsigned char*>(sp), 0x5a);
  pool->Free(s);
}

TEST(StackPool, SlabsKeepMapsSmallForFiftyThousandStacks) {
  auto pool = MakePool(StackGuardMode::kMadvise);
  const int before = CountMapsLines();
  std::vector<Stack*> stacks;
  stacks.reserve(50000);
  for (int i = 0; i < 50000; ++i) {
    absl::StatusOr<Stack*> s = pool->Allocate(i + 1);
    ASSERT_TRUE(s.ok()) << s.status();
    stacks.push_back(*s);
  }
  const int after = CountMapsLines();
  const StackPoolStats stats = pool->Stats();
  EXPECT_EQ(stats.stacks_in_use, 50000u);
  // Our own mappings: the /proc/self/maps lines that contain a stack. With madvise guards
  // a slab stays one line (adjacent slabs may even merge); mprotect would need 100,000.
  std::vector<uintptr_t> los;
  for (Stack* s : stacks) los.push_back(s->lo());
  std::sort(los.begin(), los.end());
  std::ifstream maps("/proc/self/maps");
  int stack_lines = 0;
  for (std::string line; std::getline(maps, line);) {
    const uintptr_t start = std::stoull(line.substr(0, line.find('-')), nullptr, 16);
    const uintptr_t end = std::stoull(line.substr(line.find('-') + 1), nullptr, 16);
    auto it = std::lower_bound(los.begin(), los.end(), start);
    if (it != los.end() && *it < end) ++stack_lines;
  }
  EXPECT_GT(stack_lines, 0);
  EXPECT_LE(stack_lines, static_cast<int>(stats.slabs))
      << "madvise guards must not split slabs";
  // Everything else the process mapped meanwhile (sanitizer shadow included) stays small.
  EXPECT_LT(after - before, 1000);
  for (Stack* s : stacks) pool->Free(s);
}

TEST(StackPool, InjectedEnomemNamesMaxMapCount) {
  auto pool = MakePool(StackGuardMode::kMprotect);
  StackPoolTestPeer::FailNextMapping(pool.get(), ENOMEM);
  absl::StatusOr<Stack*> s = pool->Allocate(1);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kResourceExhausted);
  std::ifstream limit_file("/proc/sys/vm/max_map_count");
  std::string limit;
  limit_file >> limit;
  EXPECT_THAT(s.status().message(), HasSubstr("vm.max_map_count is " + limit));
  EXPECT_THAT(s.status().message(), HasSubstr("0 stacks are live"));
  EXPECT_THAT(s.status().message(), HasSubstr("mprotect"));
  // The pool still works afterwards.
  absl::StatusOr<Stack*> t = pool->Allocate(2);
  ASSERT_TRUE(t.ok()) << t.status();
  pool->Free(*t);
}

TEST(StackPool, MprotectGuardsHitMaxMapCountWithAClearError) {
  if (GORO_ASAN || GORO_TSAN) {
    GTEST_SKIP() << "the sanitizer runtime needs mappings of its own near the limit";
  }
  std::ifstream limit_file("/proc/sys/vm/max_map_count");
  long limit = 0;
  limit_file >> limit;
  if (limit <= 0 || limit > 200000) GTEST_SKIP() << "vm.max_map_count is " << limit;
  StackPoolOptions options;
  options.guard_mode = StackGuardMode::kMprotect;
  options.stack_bytes = 16 * 1024;
  options.guard_bytes = 4096;
  options.slab_bytes = 4 * 1024 * 1024;
  auto pool = *StackPool::Create(options);
  std::vector<Stack*> stacks;
  absl::Status error;
  for (long i = 0; i < limit; ++i) {
    absl::StatusOr<Stack*> s = pool->Allocate(i + 1);
    if (!s.ok()) {
      error = s.status();
      break;
    }
    stacks.push_back(*s);
  }
  ASSERT_FALSE(error.ok()) << "allocated " << stacks.size() << " stacks without an error";
  EXPECT_EQ(error.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(error.message(), HasSubstr("vm.max_map_count is " + std::to_string(limit)));
  EXPECT_THAT(error.message(),
              HasSubstr(std::to_string(pool->Stats().stacks_total) + " stacks are live"));
  EXPECT_GT(stacks.size(), static_cast<size_t>(limit / 4));
  for (Stack* s : stacks) pool->Free(s);
}

// --- Guard modes ---------------------------------------------------------------------

class StackGuardDeathTest : public ::testing::TestWithParam<StackGuardMode> {};

constexpr char kOverflowMessage[] =
    "goro: stack overflow in goroutine 42 \\(stack \\[0x[0-9a-f]+, 0x[0-9a-f]+\\), fault at "
    "0x[0-9a-f]+\\)";

void TouchBelow(Stack* s, size_t bytes_below) {
  *reinterpret_cast<volatile char*>(s->lo() - bytes_below) = 1;
}

TEST_P(StackGuardDeathTest, TouchingTheGuardDiesNamingTheGoroutine) {
  auto pool = MakePool(GetParam());
  Stack* s = *pool->Allocate(42);
  ASSERT_TRUE(SetUpThreadSignalStack().ok());
  EXPECT_DEATH(TouchBelow(s, 1), kOverflowMessage);
  EXPECT_DEATH(TouchBelow(s, pool->options().guard_bytes), kOverflowMessage);
  pool->Free(s);
}

INSTANTIATE_TEST_SUITE_P(GuardModes, StackGuardDeathTest,
                         ::testing::Values(StackGuardMode::kAuto, StackGuardMode::kMadvise,
                                           StackGuardMode::kMprotect),
                         [](const ::testing::TestParamInfo<StackGuardMode>& param_info) {
                           return std::string(StackGuardModeName(param_info.param));
                         });

TEST(StackGuard, OffModeInstallsNoGuard) {
  auto pool = MakePool(StackGuardMode::kOff);
  Stack* s = *pool->Allocate(5);
  TouchBelow(s, 1);  // Ordinary memory: no fault.
  TouchBelow(s, pool->options().guard_bytes);
  EXPECT_EQ(pool->Stats().guard_mode, StackGuardMode::kOff);
  pool->Free(s);
}

// A fault outside every guard is not reported as a stack overflow: it goes to the handler
// that was installed before goro's. In a plain build that is the default action (the
// process dies of SIGSEGV, silently); under a sanitizer it is the sanitizer's report for
// the faulting address.
TEST(StackGuardDeathTest, NonGuardFaultGoesToThePreviousHandler) {
  auto pool = MakePool(StackGuardMode::kAuto);
  ASSERT_TRUE(SetUpThreadSignalStack().ok());
#if GORO_ASAN
  EXPECT_DEATH(*reinterpret_cast<volatile int*>(16) = 1,
               "AddressSanitizer: SEGV on unknown address 0x0+10 ");
#elif GORO_TSAN
  EXPECT_DEATH(*reinterpret_cast<volatile int*>(16) = 1,
               "ThreadSanitizer: SEGV on unknown address 0x0+10 ");
#else
  EXPECT_EXIT(*reinterpret_cast<volatile int*>(16) = 1, ::testing::KilledBySignal(SIGSEGV),
              ::testing::Not(::testing::HasSubstr("goro:")));
#endif
}

// A real overflow: unbounded recursion in a context running on a pool stack.
struct Overflow {
  Context main;
  Context co;
};

void OverflowEntry(void* arg) {
  testing_internal::RecurseUntilOverflow(0);
  SwitchContextFinal(&static_cast<Overflow*>(arg)->co, &static_cast<Overflow*>(arg)->main);
}

void RunOverflow(Stack* s) {
  if (!SetUpThreadSignalStack().ok()) return;
  Overflow o;
  o.main.InitForCurrentThread();
  o.co.InitOnStack(s->lo(), s->hi(), &OverflowEntry, &o);
  SwitchContext(&o.main, &o.co);
}

TEST(StackGuardDeathTest, RecursionInAGoroutineDiesNamingIt) {
  auto pool = MakePool(StackGuardMode::kAuto, 64 * 1024);
  Stack* s = *pool->Allocate(42);
  EXPECT_DEATH(RunOverflow(s), kOverflowMessage);
  pool->Free(s);
}

TEST(StackPoolDeathTest, DoubleFreeIsFatal) {
  auto pool = MakePool(StackGuardMode::kAuto);
  Stack* s = *pool->Allocate(11);
  pool->Free(s);
  EXPECT_DEATH(pool->Free(s), "goro: StackPool::Free: stack .* freed twice");
}

}  // namespace
}  // namespace goro

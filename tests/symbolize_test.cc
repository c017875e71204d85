// Tests of goro::symbolize (symbolize/symbolizer.h): functions, files and lines of PCs in
// this test (at lines taken with __LINE__), in inlined code, in libc, and of bogus PCs; the
// per-PC cache; concurrent use. Robust to -O1 (the sanitizer configurations): the functions
// whose PCs are taken are noinline, and nothing returns through a tail call.

#include "symbolize/symbolizer.h"

#include <dlfcn.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "symbolize/frame.h"

namespace goro::symbolize {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kThisFile[] = "tests/symbolize_test.cc";

// Returns the address its caller returns to (a PC in the caller, on the call's line).
[[gnu::noinline]] uintptr_t ReturnAddress() {
  auto ra = reinterpret_cast<uintptr_t>(__builtin_return_address(0));
  asm volatile("" : "+r"(ra));
  return ra;
}

constexpr int kKnownLine = __LINE__ + 3;
[[gnu::noinline]] uintptr_t KnownLineFunction() {
  // The next line is kKnownLine.
  uintptr_t pc = ReturnAddress();
  asm volatile("" : "+r"(pc)::"memory");  // keeps the call from becoming a tail call
  return pc;
}

// Its first instruction may come from <atomic>'s store, inlined two levels deep (optimised
// builds): the entry then symbolizes to those inlined frames and this function's line.
constexpr int kStoreFirstLine = __LINE__ + 1;
[[gnu::noinline]] void StoreFirst(std::atomic<bool>* b) { b->store(true); }

constexpr int kHelperLine = __LINE__ + 3;
[[gnu::always_inline]] inline uintptr_t InlinedHelper() {
  // The next line is kHelperLine.
  uintptr_t pc = ReturnAddress();
  asm volatile("" : "+r"(pc)::"memory");
  return pc;
}

constexpr int kInlineCallLine = __LINE__ + 3;
[[gnu::noinline]] uintptr_t InlineCaller() {
  // The next line is kInlineCallLine.
  uintptr_t pc = InlinedHelper();
  asm volatile("" : "+r"(pc)::"memory");
  return pc;
}

TEST(Symbolizer, KnownLineHasFunctionFileAndLine) {
  const uintptr_t ra = KnownLineFunction();
  const Frame f = SymbolizeReturnAddress(ra);
  EXPECT_EQ(f.pc, ra);
  EXPECT_THAT(f.function, HasSubstr("KnownLineFunction"));
  EXPECT_EQ(f.file, kThisFile);
  EXPECT_EQ(f.line, kKnownLine);
  EXPECT_FALSE(f.inlined);
  EXPECT_GT(f.offset, 0u);
  EXPECT_THAT(f.module, HasSubstr("symbolize_test"));
}

TEST(Symbolizer, ExactPcAndReturnAddressAgree) {
  const uintptr_t ra = KnownLineFunction();
  const Frame exact = Symbolize(ra - 1);
  const Frame from_ra = SymbolizeReturnAddress(ra);
  EXPECT_EQ(exact.function, from_ra.function);
  EXPECT_EQ(exact.file, from_ra.file);
  EXPECT_EQ(exact.line, from_ra.line);
  EXPECT_EQ(exact.pc, ra - 1);
  EXPECT_EQ(exact.offset + 1, from_ra.offset);
}

TEST(Symbolizer, FunctionEntryNamesTheFunctionAtItsFirstLines) {
  // A goroutine's start PC is a function's entry (the tracer records entry + 1 and looks
  // up the entry). The entry's line is the function's opening line.
  const auto entry = reinterpret_cast<uintptr_t>(&KnownLineFunction);
  const Frame f = Symbolize(entry);
  EXPECT_THAT(f.function, HasSubstr("KnownLineFunction"));
  EXPECT_EQ(f.offset, 0u);
  EXPECT_EQ(f.file, kThisFile);
  EXPECT_GE(f.line, kKnownLine - 2);
  EXPECT_LE(f.line, kKnownLine);
}

TEST(Symbolizer, FunctionEntryInInlinedHeaderCodeNamesTheFunctionsOwnLine) {
  std::atomic<bool> b{false};
  StoreFirst(&b);
  const Frame f = Symbolize(reinterpret_cast<uintptr_t>(&StoreFirst));
  EXPECT_THAT(f.function, HasSubstr("StoreFirst"));
  EXPECT_EQ(f.file, kThisFile) << FormatFrame(f);
  EXPECT_EQ(f.line, kStoreFirstLine);
}

TEST(Symbolizer, InlinedCallGivesInlinedFrameThenCaller) {
  const uintptr_t ra = InlineCaller();
  const std::vector<Frame> frames = SymbolizeReturnAddressInlined(ra);
  ASSERT_FALSE(frames.empty());
  const Frame& outer = frames.back();
  EXPECT_THAT(outer.function, HasSubstr("InlineCaller"));
  EXPECT_FALSE(outer.inlined);
  EXPECT_EQ(outer.file, kThisFile);
  // goro's builds (-g; GCC's -g1 in the sanitizer configurations) carry inline scopes, so
  // the inlined helper has a frame of its own. (Without scopes, as with clang's
  // -gline-tables-only, there would be one frame: documented in symbolizer.h, not tested.)
  ASSERT_EQ(frames.size(), 2u) << FormatFrames(frames);
  EXPECT_THAT(frames[0].function, HasSubstr("InlinedHelper"));
  EXPECT_TRUE(frames[0].inlined);
  EXPECT_EQ(frames[0].file, kThisFile);
  EXPECT_EQ(frames[0].line, kHelperLine);
  EXPECT_EQ(frames[0].offset, 0u);
  EXPECT_EQ(outer.line, kInlineCallLine);
  // Symbolize folds the inlined call into its caller, at the call's line.
  const Frame folded = SymbolizeReturnAddress(ra);
  EXPECT_THAT(folded.function, HasSubstr("InlineCaller"));
  EXPECT_EQ(folded.line, kInlineCallLine);
}

TEST(Symbolizer, LibcPcNamesTheLibcFunction) {
  // libc's own getpid, not a sanitizer's interceptor of the same name.
  void* libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
  ASSERT_NE(libc, nullptr) << dlerror();
  void* getpid_fn = dlsym(libc, "getpid");
  ASSERT_NE(getpid_fn, nullptr) << dlerror();
  const Frame f = Symbolize(reinterpret_cast<uintptr_t>(getpid_fn));
  dlclose(libc);
  EXPECT_THAT(f.function, HasSubstr("getpid"));
  EXPECT_THAT(f.module, HasSubstr("libc.so.6"));
  EXPECT_EQ(f.offset, 0u);
  // With libc6-dbg installed the file and line are known; without it file is "?", line 0.
  EXPECT_EQ(f.file == "?", f.line == 0) << FormatFrame(f);
}

TEST(Symbolizer, BogusPcsGiveQuestionMarks) {
  for (uintptr_t pc : {uintptr_t{0}, uintptr_t{0x10}, ~uintptr_t{0} - 4096}) {
    const Frame f = Symbolize(pc);
    EXPECT_EQ(f.pc, pc);
    EXPECT_EQ(f.function, "?");
    EXPECT_EQ(f.file, "?");
    EXPECT_EQ(f.line, 0);
    EXPECT_EQ(f.offset, 0u);
    EXPECT_EQ(f.module, "") << std::hex << pc << " " << FormatFrame(f);
  }
  // A PC on the heap: mapped, but in no object file.
  auto heap = std::make_unique<int>(7);
  const Frame f = Symbolize(reinterpret_cast<uintptr_t>(heap.get()));
  EXPECT_EQ(f.function, "?");
  EXPECT_EQ(f.line, 0);
}

TEST(Symbolizer, EachPcIsLookedUpOnce) {
  Symbolizer s;
  const uintptr_t a = KnownLineFunction();
  const uintptr_t b = InlineCaller();
  for (int i = 0; i < 10; ++i) {
    s.SymbolizeReturnAddress(a);
    s.SymbolizeReturnAddressInlined(b);
  }
  const Symbolizer::Stats st = s.stats();
  EXPECT_EQ(st.lookups, 20u);
  EXPECT_EQ(st.distinct_pcs, 2u);
  EXPECT_EQ(st.reports, 1u);
}

TEST(Symbolizer, ConcurrentLookupsAgree) {
  Symbolizer s;
  const std::vector<uintptr_t> ras = {KnownLineFunction(), InlineCaller()};
  const auto entry = reinterpret_cast<uintptr_t>(&KnownLineFunction);
  constexpr int kThreads = 4;
  std::atomic<int> ready{0};
  std::vector<std::vector<std::string>> seen(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) {
      }
      for (int i = 0; i < 50; ++i) {
        for (uintptr_t ra : ras) seen[t].push_back(FormatFrame(s.SymbolizeReturnAddress(ra)));
        seen[t].push_back(FormatFrame(s.Symbolize(entry + static_cast<uintptr_t>(i % 8))));
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 1; t < kThreads; ++t) EXPECT_EQ(seen[t], seen[0]);
  EXPECT_THAT(seen[0][0], HasSubstr("KnownLineFunction"));
  EXPECT_EQ(s.stats().distinct_pcs, 2u + 8u);
}

TEST(FormatFrame, GoTracebackShape) {
  Frame f;
  f.pc = 0x401234;
  f.function = "main::Worker()";
  f.file = "tests/go119_workload.cc";
  f.line = 42;
  f.offset = 0x1d;
  EXPECT_EQ(FormatFrame(f), "main::Worker()\n\ttests/go119_workload.cc:42 +0x1d");
  f.inlined = true;
  f.offset = 0;
  EXPECT_EQ(FormatFrame(f), "main::Worker()\n\ttests/go119_workload.cc:42");
  Frame unknown;
  unknown.pc = 0x10;
  EXPECT_EQ(FormatFrame(unknown), "?\n\t?:0 pc=0x10");
  unknown.module = "/lib/libc.so.6";
  EXPECT_EQ(FormatFrames({unknown, f}),
            "?\n\t?:0 pc=0x10 (/lib/libc.so.6)\nmain::Worker()\n\ttests/go119_workload.cc:42\n");
}

TEST(FormatFrame, RealFrameStartsWithFunctionAndNamesFileLine) {
  const std::string text = FormatFrame(SymbolizeReturnAddress(KnownLineFunction()));
  EXPECT_THAT(text, HasSubstr("KnownLineFunction"));
  EXPECT_THAT(text, HasSubstr(std::string("\n\t") + kThisFile + ":" + std::to_string(kKnownLine) +
                              " +0x"));
  EXPECT_THAT(text, ::testing::Not(EndsWith("\n")));
  EXPECT_THAT(text, ::testing::Not(StartsWith("?")));
}

}  // namespace
}  // namespace goro::symbolize

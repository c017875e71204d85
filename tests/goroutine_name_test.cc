// Tests of goroutine names (tracer/reader/goroutine_name.h): Go-like short names from the
// function names the tracer writes (Abseil's demangler), and goroutine names from creation
// stacks.

#include "tracer/reader/goroutine_name.h"

#include <vector>

#include "gtest/gtest.h"
#include "tracer/reader/reader.h"

namespace goro::trace {
namespace {

TEST(ShortFunctionName, DropsParametersTemplatesAndAnonymousNamespaces) {
  EXPECT_EQ(ShortFunctionName("(anonymous namespace)::ReadPipeSlowly()"), "ReadPipeSlowly");
  EXPECT_EQ(ShortFunctionName("ns::Type::Method()"), "ns.Type.Method");
  EXPECT_EQ(ShortFunctionName("goro::Go<>()"), "goro.Go");
  EXPECT_EQ(ShortFunctionName("main"), "main");
  EXPECT_EQ(ShortFunctionName(""), "");
}

TEST(ShortFunctionName, NamesLambdasAsGoNamesClosures) {
  EXPECT_EQ(ShortFunctionName("main::{lambda()#1}::operator()()"), "main.func1");
  EXPECT_EQ(ShortFunctionName("main::{lambda()#1}::operator()()::{lambda()#6}::operator()()"),
            "main.func1.func6");
  EXPECT_EQ(ShortFunctionName("(anonymous namespace)::Worker(int)::{lambda(int, char)#12}"),
            "Worker(int).func12");
}

TEST(IsRuntimeFunction, KnowsGorosOwnFrames) {
  EXPECT_TRUE(IsRuntimeFunction("goro::runtime_internal::NewProc()"));
  EXPECT_TRUE(IsRuntimeFunction("goro::Go<>()"));
  EXPECT_TRUE(IsRuntimeFunction("goro::Go<>()::{lambda()#1}::_FUN()"));
  EXPECT_TRUE(IsRuntimeFunction("goro::trace::Region::Region()"));
  EXPECT_FALSE(IsRuntimeFunction("main"));
  EXPECT_FALSE(IsRuntimeFunction("goro::Chan<>::Send()"));
}

Frame F(uint64_t pc, const char* func) { return Frame{pc, func, "a.cc", 1}; }

TEST(GoroutineNamer, NamesByCreatorAndNumbersItsStartFunctions) {
  GoroutineNamer namer;
  const std::vector<Frame> from_worker = {F(1, "goro::runtime_internal::NewProc()"),
                                          F(2, "goro::Go<>()"),
                                          F(3, "(anonymous namespace)::Worker()"),
                                          F(4, "main")};
  const std::vector<Frame> from_main = {F(1, "goro::runtime_internal::NewProc()"),
                                        F(2, "goro::Go<>()"),
                                        F(5, "main::{lambda()#1}::operator()()")};
  const std::vector<Frame> start_a = {F(0x100, "goro::Go<>()::{lambda()#1}::_FUN()")};
  const std::vector<Frame> start_b = {F(0x200, "goro::Go<>()::{lambda()#1}::_FUN()")};
  EXPECT_EQ(namer.Name(from_worker, start_a), "Worker.func1");
  EXPECT_EQ(namer.Name(from_worker, start_b), "Worker.func2");
  EXPECT_EQ(namer.Name(from_worker, start_a), "Worker.func1");
  // Numbers count per creator.
  EXPECT_EQ(namer.Name(from_main, start_b), "main.func1.func1");
  // No creator outside the runtime: the start function; nothing at all: "unknown".
  EXPECT_EQ(namer.Name({}, {F(0x300, "(anonymous namespace)::Serve()")}), "Serve");
  EXPECT_EQ(namer.Name({}, {}), "unknown");
}

}  // namespace
}  // namespace goro::trace

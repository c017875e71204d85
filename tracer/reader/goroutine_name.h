// goro::trace::GoroutineNamer: names goroutines for people by where they came from, as Go
// names a goroutine by its start function (main.worker.func1). Every goroutine started with
// goro::Go has the same kind of start function (goro::Go's trampoline), so the name comes
// from the creation stack instead: the function that called goro::Go, then ".funcN".

#ifndef GORO_TRACER_READER_GOROUTINE_NAME_H_
#define GORO_TRACER_READER_GOROUTINE_NAME_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "tracer/reader/reader.h"

namespace goro::trace {

// goro::trace::ShortFunctionName shortens a symbolised C++ function name into a Go-like
// one: "(anonymous namespace)::Worker()" -> "Worker",
// "main::{lambda()#1}::operator()()" -> "main.func1", "ns::Type::Method()" ->
// "ns.Type.Method". Empty stays empty.
std::string ShortFunctionName(absl::string_view func);

// goro::trace::IsRuntimeFunction says whether a symbolised function belongs to goro's own
// machinery (goro::Go and its trampoline, the scheduler, the context switch, the tracer's
// annotation classes) rather than to the program.
bool IsRuntimeFunction(absl::string_view func);

// goro::trace::GoroutineNamer gives each goroutine a name from its creation stack (the
// creator's stack at GoCreate, innermost first) and its start stack (one frame): the first
// frame of the creation stack outside goro's runtime, shortened, then ".func" and a number
// that tells apart the different start functions created from that function (1, 2, ... in
// the order the trace first shows them; a start function is one goro::Go instantiation, so
// one lambda type). Without such a frame the start function names it, and without that
// "unknown".
//
// Thread safety: not thread-safe.
class GoroutineNamer {
 public:
  // GoroutineNamer::Name returns the name of a goroutine created with these stacks.
  std::string Name(const std::vector<Frame>& creation_stack,
                   const std::vector<Frame>& start_stack);

 private:
  // Creator (short name) -> start PC -> its number under that creator.
  absl::flat_hash_map<std::string, absl::flat_hash_map<uint64_t, int>> numbers_;
};

}  // namespace goro::trace

#endif  // GORO_TRACER_READER_GOROUTINE_NAME_H_

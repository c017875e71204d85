// Helpers for the peer-comparison benchmarks: the name<TAB>metric<TAB>value<TAB>unit line
// format of bench/README.md, a monotonic clock, /proc readings and a run-self-as-child helper.
#ifndef GORO_BENCH_PEER_LINES_H_
#define GORO_BENCH_PEER_LINES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace goro_bench {

// goro_bench::EmitLine prints one result line, `name\tmetric\tvalue\tunit`, and flushes.
// Thread safety: call from one thread at a time.
void EmitLine(std::string_view name, std::string_view metric, double value,
              std::string_view unit);

// goro_bench::EmitSummary prints three result lines for the repetitions in `values`: their
// median as `metric` + `median_suffix`, and their minimum and maximum as `metric` + "_min"
// and "_max". Precondition: `values` is not empty.
void EmitSummary(std::string_view name, std::string_view metric, std::vector<double> values,
                 std::string_view unit, std::string_view median_suffix = "_median");

// goro_bench::EmitComment prints `# text`; readers of the line format ignore such lines.
void EmitComment(std::string_view text);

// goro_bench::NowNs returns CLOCK_MONOTONIC in nanoseconds.
int64_t NowNs();

// goro_bench::ResidentBytes returns the resident set size from /proc/self/statm.
int64_t ResidentBytes();

// goro_bench::CountMappings returns the number of lines of /proc/self/maps.
int64_t CountMappings();

// goro_bench::AllProcs returns the number of CPUs this process may run on (its affinity
// mask), the C++ counterpart of Go's runtime.NumCPU.
int AllProcs();

// goro_bench::RunSelf runs this executable again with `args` (through /proc/self/exe),
// waits for it, and returns its standard output split into lines. Its standard error
// passes through. A child that exits non-zero is fatal. Used for cases that need a fresh
// process (RSS deltas, Boost's once-per-process work_stealing setup).
std::vector<std::string> RunSelf(const std::vector<std::string>& args);

// goro_bench::ParseLine splits a result line into its four fields; false for comments,
// blank lines or malformed lines.
bool ParseLine(std::string_view line, std::string* name, std::string* metric, double* value,
               std::string* unit);

}  // namespace goro_bench

#endif  // GORO_BENCH_PEER_LINES_H_

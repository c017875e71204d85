// goro-trace: check, summarise and convert goro trace files (docs/trace-format.md).
//
//   goro-trace validate FILE                       exit 0 and "ok: ..." or 1 and the error
//   goro-trace stats FILE                          event counts, per-goroutine times,
//                                                  scheduler latency, GC and STW pauses
//   goro-trace goroutines FILE [--match REGEX]     goroutines by name, with creation stacks
//   goro-trace export --format=chrome FILE -o OUT  Chrome trace event JSON (Perfetto)
//   goro-trace export --format=go119 FILE -o OUT   Go 1.19's trace format (go tool trace)
//   goro-trace pprof --kind=KIND FILE -o OUT      a pprof profile (sched|sync|block|syscall)
//   goro-trace capture --pid PID --duration D -o FILE   trace a running process for D
//   goro-trace flight --pid PID -o FILE            a running process's flight recorder
//
// Exit status: 0 success, 1 unreadable or invalid file (or no complete generation), 2 bad
// usage, 3 salvaged: the file was cut or damaged after at least one complete generation;
// the command worked on the complete generations before the cut and said on stderr where
// the cut is and how many bytes it lost (docs/trace-format.md, "Salvage").

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "re2/re2.h"
#include "tools/goro-trace/chrome_export.h"
#include "tools/goro-trace/go119_export.h"
#include "tools/goro-trace/pprof_export.h"
#include "tools/goro-trace/remote.h"
#include "tracer/format.h"
#include "tracer/reader/analysis.h"
#include "tracer/reader/reader.h"
#include "tracer/reader/validator.h"

namespace {

using goro::trace::Analysis;
using goro::trace::FormatDuration;
using goro::trace::Generation;
using goro::trace::Reader;

constexpr char kUsage[] =
    "usage: goro-trace COMMAND ...\n"
    "  validate FILE                        check the file and its G/P state machines\n"
    "  stats FILE                           event counts, per-goroutine times, latency, pauses\n"
    "  goroutines FILE [--match REGEX]      goroutines by name (where they were created)\n"
    "                                       with their creation stacks; with --match, those\n"
    "                                       whose name or stacks match (RE2)\n"
    "  export --format=chrome FILE -o OUT   write Chrome trace event JSON to OUT\n"
    "  export --format=go119 FILE -o OUT    write Go 1.19's trace format to OUT, for\n"
    "                                       `go tool trace` and `go tool pprof`\n"
    "  pprof --kind=KIND FILE -o OUT        write a pprof profile (gzip profile.proto) of\n"
    "                                       where goroutines waited: KIND is sched (to run),\n"
    "                                       sync (channels, select, Mutex, Cond), block (any\n"
    "                                       wait) or syscall (blocking calls)\n"
    "  capture --pid PID --duration D -o FILE\n"
    "                                       trace running goro process PID for D (5s,\n"
    "                                       500ms) through its control socket\n"
    "  flight --pid PID -o FILE             the flight recorder's snapshot of process PID\n"
    "exit status: 0 ok, 1 invalid or unreadable, 2 bad usage, 3 salvaged (the file was cut\n"
    "or damaged; the complete generations before the cut were used, stderr says where)\n";

int Usage() {
  std::fputs(kUsage, stderr);
  return 2;
}

// Exit status when the file was cut or damaged and the complete generations before the
// cut were salvaged.
constexpr int kExitSalvaged = 3;

int Error(const std::string& file, const absl::Status& s) {
  std::fprintf(stderr, "goro-trace: %s: %s\n", file.c_str(), std::string(s.message()).c_str());
  return 1;
}

// Where a file was cut, when ForEachGeneration salvaged its complete generations.
struct Cut {
  bool cut = false;
  uint64_t generations = 0;  // complete generations before the cut
  uint64_t offset = 0;       // end of the last complete generation
  uint64_t generation = 0;   // the generation the cut is in
  uint64_t file_size = 0;
  std::string reason;        // the reader's error
};

// The exit status for a command that succeeded on what it read, after reporting a cut.
int Finish(const std::string& file, const Cut& cut) {
  if (!cut.cut) return 0;
  std::fprintf(stderr,
               "goro-trace: %s: salvaged %llu complete generation%s (bytes 0-%llu of %llu); "
               "cut at offset %llu in generation %llu, %llu bytes not used: %s\n",
               file.c_str(), static_cast<unsigned long long>(cut.generations),
               cut.generations == 1 ? "" : "s", static_cast<unsigned long long>(cut.offset),
               static_cast<unsigned long long>(cut.file_size),
               static_cast<unsigned long long>(cut.offset),
               static_cast<unsigned long long>(cut.generation),
               static_cast<unsigned long long>(cut.file_size - cut.offset), cut.reason.c_str());
  return kExitSalvaged;
}

// Reads every generation of `file`, calling `fn` for each (after validating it when
// `validate` is set). Returns OK or the first error. A reader error after at least one
// complete generation is a cut, not an error: it is described in *cut and OK is returned
// (the callers have seen every complete generation before it). A validation error is an
// error: the generation was complete and is wrong.
absl::Status ForEachGeneration(const std::string& file, bool validate,
                               const std::function<void(const Generation&)>& fn,
                               Cut* cut) {
  absl::StatusOr<std::unique_ptr<Reader>> reader = Reader::Open(file);
  if (!reader.ok()) return reader.status();
  Generation gen;
  uint64_t last_gen = 0;
  while (true) {
    absl::StatusOr<bool> more = (*reader)->NextGeneration(&gen);
    if (!more.ok()) {
      if ((*reader)->complete_generations() == 0) return more.status();
      cut->cut = true;
      cut->generations = (*reader)->complete_generations();
      cut->offset = (*reader)->complete_offset();
      cut->generation = last_gen + 1;
      struct stat st;
      cut->file_size = stat(file.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size)
                                                    : (*reader)->offset();
      cut->reason = std::string(more.status().message());
      return absl::OkStatus();
    }
    if (!*more) return absl::OkStatus();
    last_gen = gen.gen;
    if (validate) {
      absl::Status s = goro::trace::ValidateGeneration(gen);
      if (!s.ok()) return s;
    }
    fn(gen);
  }
}

// The crash record's line: "fatal: goroutine 7 (m 3): goro: ..." or "fatal: signal 11 ...".
std::string FatalLine(const goro::trace::FatalRecord& f) {
  std::string who = f.g != 0 ? absl::StrFormat("goroutine %d", f.g) : "no goroutine";
  if (f.m != 0) who += absl::StrFormat(" (m %d)", f.m);
  std::string sig = f.signal != 0 ? absl::StrFormat(", signal %d", f.signal) : "";
  return absl::StrFormat("fatal: %s%s: %s", who, sig, f.message);
}

// "N cross-M reorders (largest D)" when the reader's merge had to reorder (reader.h), else "".
std::string ReorderNote(uint64_t reorders, uint64_t max_ns) {
  if (reorders == 0) return "";
  return absl::StrFormat(", %d cross-M reorders (largest %s)", reorders, FormatDuration(max_ns));
}

int Validate(const std::string& file) {
  uint64_t gens = 0, events = 0, reorders = 0, max_reorder = 0;
  std::vector<std::string> fatals;
  Cut cut;
  absl::Status s = ForEachGeneration(
      file, true,
      [&](const Generation& gen) {
        ++gens;
        events += gen.events.size();
        reorders += gen.reorders;
        max_reorder = std::max(max_reorder, gen.max_reorder_ns);
        if (gen.fatal.present) fatals.push_back(FatalLine(gen.fatal));
      },
      &cut);
  if (!s.ok()) return Error(file, s);
  std::printf("ok: %llu generations, %llu events%s\n", static_cast<unsigned long long>(gens),
              static_cast<unsigned long long>(events), ReorderNote(reorders, max_reorder).c_str());
  for (const std::string& f : fatals) std::printf("%s\n", f.c_str());
  return Finish(file, cut);
}

int Stats(const std::string& file) {
  Analysis analysis;
  uint64_t reorders = 0, max_reorder = 0;
  std::vector<std::string> fatals;
  Cut cut;
  absl::Status s = ForEachGeneration(
      file, false,
      [&](const Generation& gen) {
        analysis.AddGeneration(gen);
        reorders += gen.reorders;
        max_reorder = std::max(max_reorder, gen.max_reorder_ns);
        if (gen.fatal.present) fatals.push_back(FatalLine(gen.fatal));
      },
      &cut);
  if (!s.ok()) return Error(file, s);
  analysis.Finish();

  std::printf("%llu generations, %llu events, %s of trace%s\n\n",
              static_cast<unsigned long long>(analysis.generations()),
              static_cast<unsigned long long>(analysis.total_events()),
              FormatDuration(analysis.last_time() - analysis.first_time()).c_str(),
              ReorderNote(reorders, max_reorder).c_str());
  std::printf("Events by type:\n");
  for (int t = 0; t < goro::trace::kEvCount; ++t) {
    const uint64_t n = analysis.event_count(static_cast<uint8_t>(t));
    if (n == 0) continue;
    std::printf("  %-20s %10llu\n", goro::trace::EventTypeName(static_cast<uint8_t>(t)),
                static_cast<unsigned long long>(n));
  }

  std::printf("\nGoroutines:\n  %8s %10s %10s %10s %10s  %s\n", "g", "running", "runnable",
              "blocked", "syscall", "blocked by reason");
  for (const auto& [id, g] : analysis.goroutines()) {
    std::string reasons;
    for (size_t r = 0; r < g.blocked_ns.size(); ++r) {
      if (g.blocked_ns[r] == 0) continue;
      if (!reasons.empty()) reasons += ", ";
      reasons += absl::StrFormat("%s %s", goro::trace::BlockReasonName(r),
                                 FormatDuration(g.blocked_ns[r]));
    }
    std::printf("  %8llu %10s %10s %10s %10s  %s\n", static_cast<unsigned long long>(id),
                FormatDuration(g.running_ns).c_str(), FormatDuration(g.runnable_ns).c_str(),
                FormatDuration(g.blocked_total_ns()).c_str(),
                FormatDuration(g.syscall_ns).c_str(), reasons.c_str());
  }

  // Go's goroutine analysis groups goroutines by start function; goro's start functions
  // are all goro::Go's trampoline, so the groups are by name (where the goroutine came from).
  std::printf("\nGoroutines by name (%zu groups):\n  %6s %10s %10s %10s %10s  %s\n",
              analysis.groups().size(), "count", "running", "runnable", "blocked", "syscall",
              "name");
  for (const goro::trace::GoroutineGroup& group : analysis.groups()) {
    std::printf("  %6llu %10s %10s %10s %10s  %s\n",
                static_cast<unsigned long long>(group.count),
                FormatDuration(group.running_ns).c_str(),
                FormatDuration(group.runnable_ns).c_str(),
                FormatDuration(group.blocked_ns).c_str(),
                FormatDuration(group.syscall_ns).c_str(), group.name.c_str());
  }

  const auto& lat = analysis.sched_latencies();
  std::printf("\nScheduler latency (%zu samples): p50 %s, p99 %s\n", lat.size(),
              FormatDuration(Analysis::Percentile(lat, 0.5)).c_str(),
              FormatDuration(Analysis::Percentile(lat, 0.99)).c_str());
  auto pauses = [](const char* what, const std::vector<uint64_t>& v) {
    uint64_t total = 0, max = 0;
    for (uint64_t d : v) {
      total += d;
      max = std::max(max, d);
    }
    std::printf("%s: %zu, total %s, max %s\n", what, v.size(), FormatDuration(total).c_str(),
                FormatDuration(max).c_str());
  };
  pauses("GC cycles", analysis.gc_pauses());
  pauses("STW pauses", analysis.stw_pauses());
  for (const std::string& f : fatals) std::printf("\n%s\n", f.c_str());
  return Finish(file, cut);
}

std::string FrameLine(const goro::trace::Frame& f) {
  return absl::StrFormat("%s %s:%d", f.func, f.file, f.line);
}

int Goroutines(const std::string& file, const std::string* pattern) {
  std::unique_ptr<RE2> re;
  if (pattern != nullptr) {
    re = std::make_unique<RE2>(*pattern, RE2::Quiet);
    if (!re->ok()) {
      std::fprintf(stderr, "goro-trace: bad --match regular expression \"%s\": %s\n",
                   pattern->c_str(), re->error().c_str());
      return 2;
    }
  }
  Analysis analysis;
  Cut cut;
  absl::Status s = ForEachGeneration(
      file, false, [&](const Generation& gen) { analysis.AddGeneration(gen); }, &cut);
  if (!s.ok()) return Error(file, s);
  analysis.Finish();
  constexpr size_t kTopFrames = 3;
  // Grouped by name, the groups in Analysis::groups order, as Go's goroutine analysis lists
  // goroutines under their start function.
  std::map<std::string, std::vector<const goro::trace::GoroutineSummary*>> by_name;
  for (const auto& [id, g] : analysis.goroutines()) {
    if (re != nullptr) {
      bool match = RE2::PartialMatch(g.name, *re);
      for (const std::string& fn : g.functions) {
        if (match) break;
        match = RE2::PartialMatch(fn, *re);
      }
      if (!match) continue;
    }
    by_name[g.name].push_back(&g);
  }
  for (const goro::trace::GoroutineGroup& group : analysis.groups()) {
    auto it = by_name.find(group.name);
    if (it == by_name.end()) continue;
    std::printf("[%s] %zu goroutine%s\n", group.name.c_str(), it->second.size(),
                it->second.size() == 1 ? "" : "s");
    for (const goro::trace::GoroutineSummary* g : it->second) {
      std::string start = g->start_stack.empty() ? "?" : FrameLine(g->start_stack.front());
      std::printf("g%llu start=%s%s%s\n", static_cast<unsigned long long>(g->id),
                  start.c_str(), g->created ? "" : " (created before the trace)",
                  g->gone ? " (exited)" : "");
      for (size_t i = 0; i < g->creation_stack.size() && i < kTopFrames; ++i) {
        std::printf("    %s\n", FrameLine(g->creation_stack[i]).c_str());
      }
    }
  }
  return Finish(file, cut);
}

int Export(const std::string& format, const std::string& file, const std::string& out_path) {
  if (format != "chrome" && format != "go119") {
    std::fprintf(stderr, "goro-trace: unknown export format \"%s\" (want chrome or go119)\n",
                 format.c_str());
    return 2;
  }
  std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
  if (!out) {
    std::fprintf(stderr, "goro-trace: cannot write %s\n", out_path.c_str());
    return 1;
  }
  absl::Status s;
  std::string note;
  std::vector<std::string> fatals;
  Cut cut;
  if (format == "chrome") {
    goro::trace::ChromeExporter exporter(out);
    s = ForEachGeneration(
        file, false,
        [&](const Generation& gen) {
          exporter.AddGeneration(gen);
          if (gen.fatal.present) fatals.push_back(FatalLine(gen.fatal));
        },
        &cut);
    exporter.Finish();
  } else {
    // Streams: one generation in memory at a time.
    goro::trace::Go119Exporter exporter(out);
    s = ForEachGeneration(
        file, false,
        [&](const Generation& gen) {
          exporter.AddGeneration(gen);
          if (gen.fatal.present) fatals.push_back(FatalLine(gen.fatal));
        },
        &cut);
    exporter.Finish();
    note = exporter.Note();
  }
  out.close();
  if (!s.ok()) {
    std::remove(out_path.c_str());
    return Error(file, s);
  }
  if (!out) {
    std::fprintf(stderr, "goro-trace: error writing %s\n", out_path.c_str());
    return 1;
  }
  if (!note.empty()) std::fprintf(stderr, "goro-trace: %s\n", note.c_str());
  for (const std::string& f : fatals) std::fprintf(stderr, "goro-trace: %s: %s\n", file.c_str(), f.c_str());
  return Finish(file, cut);
}

int Pprof(const std::string& kind_name, const std::string& file, const std::string& out_path) {
  absl::StatusOr<goro::trace::PprofKind> kind = goro::trace::ParsePprofKind(kind_name);
  if (!kind.ok()) {
    std::fprintf(stderr, "goro-trace: %s\n", std::string(kind.status().message()).c_str());
    return 2;
  }
  goro::trace::PprofBuilder builder(*kind);
  Cut cut;
  absl::Status s = ForEachGeneration(
      file, false, [&](const Generation& gen) { builder.AddGeneration(gen); }, &cut);
  if (!s.ok()) return Error(file, s);
  std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
  if (!out) {
    std::fprintf(stderr, "goro-trace: cannot write %s\n", out_path.c_str());
    return 1;
  }
  s = builder.Write(out);
  out.close();
  if (!s.ok() || !out) {
    std::remove(out_path.c_str());
    std::fprintf(stderr, "goro-trace: %s: %s\n", out_path.c_str(),
                 s.ok() ? "write failed" : std::string(s.message()).c_str());
    return 1;
  }
  const goro::trace::PprofStats& st = builder.stats();
  std::fprintf(stderr, "goro-trace: %s profile: %llu stacks, %llu intervals, %s in all\n",
               kind_name.c_str(), static_cast<unsigned long long>(st.samples),
               static_cast<unsigned long long>(st.intervals), FormatDuration(st.total_ns).c_str());
  return Finish(file, cut);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return Usage();
  const std::string cmd = args[0];
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (cmd == "validate" && args.size() == 2) return Validate(args[1]);
  if (cmd == "capture") return goro::trace_tool::Capture({args.begin() + 1, args.end()});
  if (cmd == "flight") return goro::trace_tool::Flight({args.begin() + 1, args.end()});
  if (cmd == "stats" && args.size() == 2) return Stats(args[1]);
  if (cmd == "goroutines") {
    if (args.size() == 2) return Goroutines(args[1], nullptr);
    if (args.size() == 4 && args[2] == "--match") return Goroutines(args[1], &args[3]);
    if (args.size() == 3 && args[2].rfind("--match=", 0) == 0) {
      const std::string pattern = args[2].substr(8);
      return Goroutines(args[1], &pattern);
    }
    return Usage();
  }
  if (cmd == "export" || cmd == "pprof") {
    // export --format=F FILE -o OUT, pprof --kind=K FILE -o OUT.
    const std::string flag = cmd == "export" ? "--format=" : "--kind=";
    std::string value, file, out;
    for (size_t i = 1; i < args.size(); ++i) {
      if (args[i].rfind(flag, 0) == 0) {
        value = args[i].substr(flag.size());
      } else if (args[i] == "-o" && i + 1 < args.size()) {
        out = args[++i];
      } else if (file.empty() && !args[i].empty() && args[i][0] != '-') {
        file = args[i];
      } else {
        return Usage();
      }
    }
    if (value.empty() || file.empty() || out.empty()) return Usage();
    return cmd == "export" ? Export(value, file, out) : Pprof(value, file, out);
  }
  return Usage();
}

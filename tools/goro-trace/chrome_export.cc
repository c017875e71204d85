// Chrome trace event JSON from goro trace generations: the M tracks' running slices are
// written when they end, so the exporter keeps only the open slice of each M.

#include "tools/goro-trace/chrome_export.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tracer/format.h"

namespace goro::trace {

std::string JsonQuote(absl::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c >= 0x7f) {
      out += absl::StrFormat("\\u%04x", c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  out.push_back('"');
  return out;
}

ChromeExporter::ChromeExporter(std::ostream& out) : out_(out) {
  out_ << "{\"traceEvents\": [\n";
  Emit(R"({"ph": "M", "name": "process_name", "pid": 1, "args": {"name": "goro"}})");
  Emit(absl::StrFormat(
      R"({"ph": "M", "name": "thread_name", "pid": 1, "tid": %d, "args": {"name": "GC"}})",
      kGcTid));
  Emit(absl::StrFormat(
      R"({"ph": "M", "name": "thread_name", "pid": 1, "tid": %d, "args": {"name": "STW"}})",
      kStwTid));
}

void ChromeExporter::Emit(const std::string& json_object) {
  if (!first_event_) out_ << ",\n";
  first_event_ = false;
  out_ << json_object;
}

void ChromeExporter::EnsureTrack(uint64_t m) {
  if (!tracks_.insert(m).second) return;
  Emit(absl::StrFormat(
      R"({"ph": "M", "name": "thread_name", "pid": 1, "tid": %d, "args": {"name": "M %d"}})",
      m, m));
  Emit(absl::StrFormat(
      R"({"ph": "M", "name": "thread_sort_index", "pid": 1, "tid": %d, "args": {"sort_index": %d}})",
      m, m));
}

std::string ChromeExporter::Ts(uint64_t t) const {
  const int64_t rel = static_cast<int64_t>(t - t0_);
  return absl::StrFormat("%.3f", static_cast<double>(rel) / 1000.0);
}

std::string ChromeExporter::Us(uint64_t from, uint64_t to) {
  const uint64_t ns = to >= from ? to - from : 0;
  return absl::StrFormat("%.3f", static_cast<double>(ns) / 1000.0);
}

std::string ChromeExporter::StackJson(const Generation& gen, uint64_t stack) const {
  std::string out = "[";
  if (const std::vector<Frame>* frames = gen.Stack(stack)) {
    for (size_t i = 0; i < frames->size(); ++i) {
      const Frame& f = (*frames)[i];
      if (i > 0) out += ", ";
      out += JsonQuote(absl::StrFormat("%s %s:%d (pc 0x%x)", f.func, f.file, f.line, f.pc));
    }
  }
  out += "]";
  return out;
}

void ChromeExporter::EndSyscall(uint64_t m, uint64_t t) {
  Running& r = running_[m];
  if (!r.in_syscall) return;
  r.in_syscall = false;
  Emit(absl::StrFormat(
      R"({"ph": "X", "name": "syscall", "cat": "syscall", "pid": 1, "tid": %d, "ts": %s, "dur": %s, "args": {"goroutine": %d, "stack": %s}})",
      m, Ts(r.syscall_start), Us(r.syscall_start, t), r.g, r.syscall_stack));
}

void ChromeExporter::EndRunning(uint64_t m, uint64_t t, const std::string& why,
                                const std::string& stack) {
  auto it = running_.find(m);
  if (it == running_.end() || it->second.g == 0) return;
  EndSyscall(m, t);
  Running& r = it->second;
  Emit(absl::StrFormat(
      R"({"ph": "X", "name": "g%d", "cat": "goroutine", "pid": 1, "tid": %d, "ts": %s, "dur": %s, "args": {"goroutine": %d, "end": %s, "end stack": %s}})",
      r.g, m, Ts(r.start), Us(r.start, t), r.g, JsonQuote(why), stack));
  r = Running{};
}

void ChromeExporter::AddGeneration(const Generation& gen) {
  if (!have_t0_ && !gen.events.empty()) {
    have_t0_ = true;
    t0_ = gen.events.front().time;
    for (const Event& ev : gen.events) t0_ = std::min(t0_, ev.time);
  }
  for (const Event& ev : gen.events) {
    const uint64_t t = ev.time;
    const uint64_t m = ev.m;
    const uint64_t* a = ev.args;
    last_time_ = std::max(last_time_, t);
    if (m != 0) EnsureTrack(m);
    auto instant = [&](const std::string& name, const std::string& args) {
      Emit(absl::StrFormat(
          R"({"ph": "i", "s": "t", "name": %s, "cat": "goroutine", "pid": 1, "tid": %d, "ts": %s, "args": %s})",
          JsonQuote(name), m, Ts(t), args));
    };
    const uint64_t cur = running_.contains(m) ? running_[m].g : 0;

    switch (ev.type) {
      case kEvGoStatus:
      case kEvGoStatusStack: {
        const uint64_t on = a[1] != 0 ? a[1] : m;
        if (on != 0 && (a[2] == static_cast<uint64_t>(GoStatus::kRunning) ||
                        a[2] == static_cast<uint64_t>(GoStatus::kSyscall))) {
          EnsureTrack(on);
          Running& r = running_[on];
          if (r.g != a[0]) {
            r = Running{};
            r.g = a[0];
            r.start = t;
            if (a[2] == static_cast<uint64_t>(GoStatus::kSyscall)) {
              r.in_syscall = true;
              r.syscall_start = t;
              r.syscall_stack = "[]";
            }
          }
        }
        break;
      }
      case kEvGoCreate:
        instant(absl::StrFormat("create g%d", a[0]),
                absl::StrFormat(R"({"goroutine": %d, "stack": %s, "start": %s})", a[0],
                                StackJson(gen, a[1]), StackJson(gen, a[2])));
        break;
      case kEvGoStart: {
        EndRunning(m, t, "replaced", "[]");
        Running& r = running_[m];
        r.g = a[0];
        r.start = t;
        auto it = pending_flow_.find(a[0]);
        if (it != pending_flow_.end()) {
          Emit(absl::StrFormat(
              R"({"ph": "f", "bp": "e", "name": "unblock", "cat": "flow", "id": %d, "pid": 1, "tid": %d, "ts": %s})",
              it->second, m, Ts(t)));
          pending_flow_.erase(it);
        }
        break;
      }
      case kEvGoStop:
        EndRunning(m, t, absl::StrCat("stop: ", StopReasonName(a[0])), StackJson(gen, a[1]));
        break;
      case kEvGoBlock: {
        const std::string why = absl::StrCat("block: ", BlockReasonName(a[0]));
        if (cur != 0) {
          instant(absl::StrFormat("block g%d: %s", cur, BlockReasonName(a[0])),
                  absl::StrFormat(R"({"goroutine": %d, "reason": %s, "stack": %s})", cur,
                                  JsonQuote(BlockReasonName(a[0])), StackJson(gen, a[1])));
        }
        EndRunning(m, t, why, StackJson(gen, a[1]));
        break;
      }
      case kEvGoUnblock: {
        const uint64_t id = next_flow_++;
        instant(absl::StrFormat("unblock g%d", a[0]),
                absl::StrFormat(R"({"goroutine": %d, "by": %d, "stack": %s})", a[0], cur,
                                StackJson(gen, a[1])));
        Emit(absl::StrFormat(
            R"({"ph": "s", "name": "unblock", "cat": "flow", "id": %d, "pid": 1, "tid": %d, "ts": %s})",
            id, m, Ts(t)));
        pending_flow_[a[0]] = id;
        break;
      }
      case kEvGoDestroy:
        EndRunning(m, t, "exit", "[]");
        break;
      case kEvGoSyscallBegin: {
        if (cur == 0) break;
        Running& r = running_[m];
        r.in_syscall = true;
        r.syscall_start = t;
        r.syscall_stack = StackJson(gen, a[0]);
        break;
      }
      case kEvGoSyscallEnd:
        EndSyscall(m, t);
        break;
      case kEvGoSyscallEndBlocked:
        EndRunning(m, t, "syscall ended without a P", "[]");
        break;
      case kEvSTWBegin:
        stw_[m] = {t, a[0]};
        break;
      case kEvSTWEnd: {
        auto it = stw_.find(m);
        if (it == stw_.end()) break;
        Emit(absl::StrFormat(
            R"({"ph": "X", "name": %s, "cat": "stw", "pid": 1, "tid": %d, "ts": %s, "dur": %s, "args": {"m": %d}})",
            JsonQuote(absl::StrCat("STW (", STWKindName(it->second.second), ")")), kStwTid,
            Ts(it->second.first), Us(it->second.first, t), m));
        stw_.erase(it);
        break;
      }
      case kEvGCBegin:
        gc_open_ = true;
        gc_begin_ = t;
        gc_seq_ = a[0];
        break;
      case kEvGCEnd:
        if (gc_open_) {
          Emit(absl::StrFormat(
              R"({"ph": "X", "name": "GC %d", "cat": "gc", "pid": 1, "tid": %d, "ts": %s, "dur": %s, "args": {"seq": %d}})",
              gc_seq_, kGcTid, Ts(gc_begin_), Us(gc_begin_, t), gc_seq_));
        }
        gc_open_ = false;
        break;
      case kEvUserLog:
        instant(absl::StrFormat("log %s", gen.String(a[1])),
                absl::StrFormat(R"({"task": %d, "message": %s, "stack": %s})", a[0],
                                JsonQuote(gen.String(a[2])), StackJson(gen, a[3])));
        break;
      default:
        break;
    }
  }
}

void ChromeExporter::Finish() {
  if (finished_) return;
  finished_ = true;
  std::vector<uint64_t> ms;
  for (const auto& [m, r] : running_) ms.push_back(m);
  std::sort(ms.begin(), ms.end());
  for (uint64_t m : ms) EndRunning(m, last_time_, "end of trace", "[]");
  out_ << "\n]}\n";
}

}  // namespace goro::trace

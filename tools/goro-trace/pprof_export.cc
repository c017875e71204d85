// goro-trace pprof (pprof_export.h): intervals from the trace's analysis, summed per stack,
// written as profile.proto through protobuf and gzip through zlib.

#include "tools/goro-trace/pprof_export.h"

#include <zlib.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "tools/goro-trace/profile.pb.h"

namespace goro::trace {
namespace {

// Whether a wait for `reason` belongs to the sync view: what Go's -pprof=sync counts
// (channel operations, select, sync primitives, Cond).
bool IsSyncReason(BlockReason reason) {
  switch (reason) {
    case BlockReason::kSelect:
    case BlockReason::kCondWait:
    case BlockReason::kSync:
    case BlockReason::kChanSend:
    case BlockReason::kChanRecv:
      return true;
    default:
      return false;
  }
}

// The profile's string table: index 0 is "".
class StringTable {
 public:
  explicit StringTable(perftools::profiles::Profile* p) : p_(p) { Index(""); }
  int64_t Index(const std::string& s) {
    auto [it, inserted] = ids_.try_emplace(s, static_cast<int64_t>(ids_.size()));
    if (inserted) p_->add_string_table(s);
    return it->second;
  }

 private:
  perftools::profiles::Profile* p_;
  absl::flat_hash_map<std::string, int64_t> ids_;
};

// gzip-compresses `data` (zlib's deflate with the gzip wrapper, as pprof expects).
absl::StatusOr<std::string> Gzip(const std::string& data) {
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return absl::InternalError("gzip: deflateInit2 failed");
  }
  std::string out(deflateBound(&z, data.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  const size_t written = out.size() - z.avail_out;
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return absl::InternalError(absl::StrCat("gzip: deflate returned ", rc));
  out.resize(written);
  return out;
}

}  // namespace

absl::StatusOr<PprofKind> ParsePprofKind(absl::string_view name) {
  if (name == "sched") return PprofKind::kSched;
  if (name == "sync") return PprofKind::kSync;
  if (name == "block") return PprofKind::kBlock;
  if (name == "syscall") return PprofKind::kSyscall;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown profile kind \"", name, "\" (want sched, sync, block or syscall)"));
}

PprofBuilder::PprofBuilder(PprofKind kind) : kind_(kind) { analysis_.set_interval_sink(this); }

uint64_t PprofBuilder::InternStack(const std::vector<Frame>& frames) {
  std::vector<uint64_t> pcs;
  pcs.reserve(frames.size());
  for (const Frame& f : frames) pcs.push_back(f.pc);
  auto [it, inserted] = stack_keys_.try_emplace(std::move(pcs), stacks_.size() + 1);
  if (inserted) stacks_.push_back(frames);
  return it->second;
}

void PprofBuilder::Interval(IntervalKind kind, BlockReason reason, uint64_t, uint64_t stack_key,
                            uint64_t begin, uint64_t end) {
  bool wanted = false;
  switch (kind_) {
    case PprofKind::kSched:
      wanted = kind == IntervalKind::kSched;
      break;
    case PprofKind::kSync:
      wanted = kind == IntervalKind::kBlock && IsSyncReason(reason);
      break;
    case PprofKind::kBlock:
      wanted = kind == IntervalKind::kBlock;
      break;
    case PprofKind::kSyscall:
      wanted = kind == IntervalKind::kSyscall;
      break;
  }
  if (!wanted) return;
  Sum& sum = sums_[stack_key];
  sum.count++;
  sum.ns += end - begin;
  stats_.intervals++;
  stats_.total_ns += end - begin;
}

absl::Status PprofBuilder::Write(std::ostream& out) {
  analysis_.Finish();
  perftools::profiles::Profile p;
  StringTable strings(&p);
  auto* contentions = p.add_sample_type();
  contentions->set_type(strings.Index("contentions"));
  contentions->set_unit(strings.Index("count"));
  auto* delay = p.add_sample_type();
  delay->set_type(strings.Index("delay"));
  delay->set_unit(strings.Index("nanoseconds"));
  p.set_default_sample_type(strings.Index("delay"));
  // No time_nanos: trace times are CLOCK_MONOTONIC, not wall-clock time.
  p.set_duration_nanos(static_cast<int64_t>(analysis_.last_time() - analysis_.first_time()));

  // One location per PC, one function per (name, file).
  absl::flat_hash_map<uint64_t, uint64_t> location_of_pc;
  absl::flat_hash_map<std::pair<std::string, std::string>, uint64_t> function_of;
  auto location = [&](const Frame& f) -> uint64_t {
    auto [it, inserted] = location_of_pc.try_emplace(f.pc, location_of_pc.size() + 1);
    if (!inserted) return it->second;
    const std::string name = f.func.empty() ? absl::StrCat("0x", absl::Hex(f.pc)) : f.func;
    auto [fit, fnew] = function_of.try_emplace(std::make_pair(name, f.file), function_of.size() + 1);
    if (fnew) {
      auto* fn = p.add_function();
      fn->set_id(fit->second);
      fn->set_name(strings.Index(name));
      fn->set_system_name(strings.Index(name));
      fn->set_filename(strings.Index(f.file));
    }
    auto* loc = p.add_location();
    loc->set_id(it->second);
    // Stack tables hold return addresses; the call is the instruction before (pprof
    // shows addresses as they are given).
    loc->set_address(f.pc);
    auto* line = loc->add_line();
    line->set_function_id(fit->second);
    line->set_line(static_cast<int64_t>(f.line));
    return it->second;
  };
  for (const auto& [key, sum] : sums_) {
    auto* sample = p.add_sample();
    for (const Frame& f : stacks_[key - 1]) sample->add_location_id(location(f));
    sample->add_value(static_cast<int64_t>(sum.count));
    sample->add_value(static_cast<int64_t>(sum.ns));
  }
  stats_.samples = sums_.size();
  std::string raw;
  if (!p.SerializeToString(&raw)) return absl::InternalError("profile: serialisation failed");
  absl::StatusOr<std::string> gz = Gzip(raw);
  if (!gz.ok()) return gz.status();
  out.write(gz->data(), static_cast<std::streamsize>(gz->size()));
  if (!out) return absl::DataLossError("profile: write failed");
  return absl::OkStatus();
}

}  // namespace goro::trace

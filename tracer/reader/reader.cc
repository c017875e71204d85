// The trace reader: header and batch framing from a stream, payload decoding with every
// length bounded by the bytes that remain, per-generation tables, and the merge of the
// Ms' event sequences.
//
// Design: the reader never holds more than one batch's payload (at most kMaxBatchPayload
// bytes, checked before the buffer grows) plus the generation being assembled. Each
// decoded event remembers its file offset so that the validator's messages and the
// reader's own can point into the file. The merge needs the validator's state machine to
// break ties between Ms whose events carry the same time; rejected alternative: sorting by
// (time, m), which turns every cross-M tie in the wrong order into a false error.

#include "tracer/reader/reader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tracer/reader/state_machine.h"
#include "tracer/wire.h"

namespace goro::trace {
namespace {

// Whether an event type may appear in a structural (m == 0) batch.
bool AllowedInStructuralBatch(uint8_t type) {
  switch (type) {
    case kEvString:
    case kEvStack:
    case kEvEndOfGeneration:
    case kEvGoStatus:
    case kEvGoStatusStack:
    case kEvProcStatus:
    case kEvFatal:
      return true;
    default:
      return false;
  }
}

struct RawFrame {
  uint64_t pc, func, file, line;
};

struct RawStack {
  uint64_t offset;  // of the kEvStack event
  std::vector<RawFrame> frames;
};

}  // namespace

absl::string_view Generation::String(uint64_t id) const {
  auto it = strings.find(id);
  return it == strings.end() ? absl::string_view() : absl::string_view(it->second);
}

const std::vector<Frame>* Generation::Stack(uint64_t id) const {
  auto it = stacks.find(id);
  return it == stacks.end() ? nullptr : &it->second;
}

Reader::Reader(std::istream& in) : in_(&in) {}

Reader::Reader(std::unique_ptr<std::istream> owned)
    : owned_(std::move(owned)), in_(owned_.get()) {}

Reader::~Reader() = default;

std::unique_ptr<Reader> Reader::FromBytes(absl::string_view bytes) {
  return std::unique_ptr<Reader>(
      new Reader(std::make_unique<std::istringstream>(std::string(bytes), std::ios::binary)));
}

absl::StatusOr<std::unique_ptr<Reader>> Reader::Open(const std::string& path) {
  auto file = std::make_unique<std::ifstream>(path, std::ios::binary);
  if (!file->is_open()) {
    const int err = errno;
    const std::string msg = absl::StrCat(path, ": ", std::strerror(err));
    if (err == EACCES) return absl::PermissionDeniedError(msg);
    if (err == ENOENT) return absl::NotFoundError(msg);
    return absl::UnavailableError(msg);
  }
  return std::unique_ptr<Reader>(new Reader(std::move(file)));
}

absl::Status Reader::Fail(absl::Status status) {
  error_ = status;
  return status;
}

size_t Reader::ReadBytes(uint8_t* dst, size_t n) {
  if (n == 0) return 0;
  in_->read(reinterpret_cast<char*>(dst), static_cast<std::streamsize>(n));
  const size_t got = static_cast<size_t>(in_->gcount());
  offset_ += got;
  return got;
}

absl::Status Reader::ReadHeader() {
  uint8_t header[kHeaderSize];
  const size_t got = ReadBytes(header, kHeaderSize);
  if (got < kHeaderSize) {
    return absl::DataLossError(absl::StrFormat(
        "offset %d: truncated header: %d of %d bytes", got, got, kHeaderSize));
  }
  if (std::memcmp(header, kMagic, sizeof(kMagic)) != 0) {
    return absl::InvalidArgumentError(
        "offset 0: bad magic: not a goro trace file (want \"goro-trace\")");
  }
  const uint16_t version = GetU16LE(header + sizeof(kMagic));
  if (version != kVersion) {
    return absl::UnimplementedError(absl::StrFormat(
        "offset %d: unsupported trace version %d; this reader understands version %d",
        sizeof(kMagic), version, kVersion));
  }
  for (size_t i = sizeof(kMagic) + 2; i < kHeaderSize; ++i) {
    if (header[i] != 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("offset %d: reserved header byte is %d, want 0", i, header[i]));
    }
  }
  return absl::OkStatus();
}

absl::Status Reader::ReadStreamUvarint(uint64_t* v, const char* what) {
  const uint64_t start = offset_;
  uint8_t buf[kMaxVarintBytes];
  size_t n = 0;
  while (n < kMaxVarintBytes) {
    if (ReadBytes(buf + n, 1) != 1) {
      return absl::DataLossError(absl::StrFormat(
          "offset %d: truncated batch header: the file ends inside its %s", start, what));
    }
    if (buf[n++] < 0x80) break;
  }
  const uint8_t* p = buf;
  if (!GetUvarint(&p, buf + n, v)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("offset %d: malformed uvarint for the batch's %s", start, what));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> Reader::ReadBatch() {
  batch_offset_ = offset_;
  uint8_t type;
  if (ReadBytes(&type, 1) == 0) return false;
  if (type != kEvBatch) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "offset %d: expected a batch (byte %d), found byte %d", batch_offset_, kEvBatch, type));
  }
  absl::Status s = ReadStreamUvarint(&batch_gen_, "generation");
  if (s.ok()) s = ReadStreamUvarint(&batch_m_, "m");
  if (s.ok()) s = ReadStreamUvarint(&batch_base_time_, "base time");
  if (!s.ok()) return s;
  const uint64_t len_offset = offset_;
  uint8_t len_bytes[4];
  if (ReadBytes(len_bytes, 4) != 4) {
    return absl::DataLossError(absl::StrFormat(
        "offset %d: truncated batch header: the file ends inside the payload length",
        len_offset));
  }
  const uint32_t len = GetU32LE(len_bytes);
  if (len > kMaxBatchPayload) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "offset %d: batch payload of %d bytes is longer than the limit of %d bytes",
        len_offset, len, kMaxBatchPayload));
  }
  batch_payload_offset_ = offset_;
  payload_.resize(len);
  const size_t got = ReadBytes(payload_.data(), len);
  if (got != len) {
    return absl::DataLossError(absl::StrFormat(
        "offset %d: truncated batch: payload of %d bytes, the file has only %d (batch of "
        "m %d at offset %d)",
        batch_payload_offset_, len, got, batch_m_, batch_offset_));
  }
  return true;
}

absl::StatusOr<bool> Reader::NextGeneration(Generation* out) {
  if (!error_.ok()) return error_;
  if (!header_done_) {
    absl::Status s = ReadHeader();
    if (!s.ok()) return Fail(s);
    header_done_ = true;
    complete_offset_ = offset_;
  }
  out->gen = 0;
  out->strings.clear();
  out->stacks.clear();
  out->events.clear();
  out->reorders = 0;
  out->max_reorder_ns = 0;
  out->fatal = FatalRecord{};
  out->strings[0] = "";
  uint64_t fatal_message_id = 0;

  absl::flat_hash_map<uint64_t, RawStack> raw_stacks;
  std::vector<Event>& front = front_;
  front.clear();
  raw_.clear();
  per_m_.clear();
  for (std::vector<Run>& runs : run_pool_) runs.clear();
  // The runs of M `m` in this generation: the next pooled list when m is new.
  auto runs_of = [&](uint64_t m) -> std::vector<Run>& {
    auto [it, inserted] = per_m_.try_emplace(m, per_m_.size());
    if (it->second == run_pool_.size()) run_pool_.emplace_back();
    return run_pool_[it->second];
  };
  bool have_gen = false;
  uint64_t gen = 0;
  bool ended = false;

  while (!ended) {
    absl::StatusOr<bool> more = ReadBatch();
    if (!more.ok()) return Fail(more.status());
    if (!*more) {
      if (!have_gen) return false;
      return Fail(absl::DataLossError(absl::StrFormat(
          "offset %d: truncated: generation %d has no end marker", offset_, gen)));
    }
    if (!have_gen) {
      if (have_prev_gen_ && batch_gen_ != prev_gen_ + 1) {
        return Fail(absl::InvalidArgumentError(absl::StrFormat(
            "offset %d: generation %d follows generation %d (want %d)", batch_offset_,
            batch_gen_, prev_gen_, prev_gen_ + 1)));
      }
      have_gen = true;
      gen = batch_gen_;
    } else if (batch_gen_ != gen) {
      return Fail(absl::InvalidArgumentError(absl::StrFormat(
          "offset %d: batch of generation %d inside generation %d, which has no end marker "
          "yet",
          batch_offset_, batch_gen_, gen)));
    }

    // Decode the payload.
    const uint8_t* const begin = payload_.data();
    const uint8_t* const end = begin + payload_.size();
    const uint8_t* p = begin;
    uint64_t time = batch_base_time_;
    const uint64_t m = batch_m_;
    std::vector<Event>& seq = m == 0 ? front : raw_;
    const size_t batch_begin = seq.size();
    auto off = [&](const uint8_t* q) { return batch_payload_offset_ + (q - begin); };
    while (p < end) {
      if (ended) {
        return Fail(absl::InvalidArgumentError(absl::StrFormat(
            "offset %d: event after EndOfGeneration in the same batch", off(p))));
      }
      const uint64_t ev_offset = off(p);
      const uint8_t type = *p++;
      if (type == kEvNone || type == kEvBatch || type >= kEvCount) {
        return Fail(absl::InvalidArgumentError(absl::StrFormat(
            "offset %d: unknown event type %d in batch of m %d", ev_offset, type, m)));
      }
      const bool structural =
          type == kEvString || type == kEvStack || type == kEvEndOfGeneration;
      if (m != 0 && structural) {
        return Fail(absl::InvalidArgumentError(absl::StrFormat(
            "offset %d: %s event in batch of m %d (it belongs in an m 0 batch)", ev_offset,
            EventTypeName(type), m)));
      }
      if (m == 0 && !AllowedInStructuralBatch(type)) {
        return Fail(absl::InvalidArgumentError(absl::StrFormat(
            "offset %d: %s event in a structural (m 0) batch", ev_offset,
            EventTypeName(type))));
      }
      // Reads one uvarint of the current event or fails naming it.
      absl::Status bad;
      auto get = [&](uint64_t* v, const char* what) {
        const uint8_t* at = p;
        if (GetUvarint(&p, end, v)) return true;
        bad = absl::InvalidArgumentError(absl::StrFormat(
            "offset %d: uvarint for the %s of a %s event (at offset %d, batch of m %d) runs "
            "off the payload or is malformed",
            off(at), what, EventTypeName(type), ev_offset, m));
        return false;
      };

      if (type == kEvString) {
        uint64_t id, len;
        if (!get(&id, "id") || !get(&len, "length")) return Fail(bad);
        if (len > kMaxStringSize) {
          return Fail(absl::InvalidArgumentError(absl::StrFormat(
              "offset %d: string %d is %d bytes long, more than the limit of %d", ev_offset,
              id, len, kMaxStringSize)));
        }
        if (len > static_cast<uint64_t>(end - p)) {
          return Fail(absl::InvalidArgumentError(absl::StrFormat(
              "offset %d: string %d of %d bytes runs off the payload (%d bytes left)",
              ev_offset, id, len, end - p)));
        }
        if (!out->strings.emplace(id, std::string(reinterpret_cast<const char*>(p), len))
                 .second) {
          return Fail(absl::InvalidArgumentError(absl::StrFormat(
              "offset %d: string id %d defined twice in generation %d", ev_offset, id, gen)));
        }
        p += len;
        continue;
      }
      if (type == kEvStack) {
        uint64_t id, n;
        if (!get(&id, "id") || !get(&n, "frame count")) return Fail(bad);
        if (n > kMaxFramesPerStack) {
          return Fail(absl::InvalidArgumentError(absl::StrFormat(
              "offset %d: stack %d has %d frames, more than the limit of %d", ev_offset, id,
              n, kMaxFramesPerStack)));
        }
        if (id == 0 || raw_stacks.contains(id)) {
          return Fail(absl::InvalidArgumentError(absl::StrFormat(
              "offset %d: stack id %d defined twice in generation %d", ev_offset, id, gen)));
        }
        RawStack stack{ev_offset, {}};
        stack.frames.reserve(n);  // at most kMaxFramesPerStack
        for (uint64_t i = 0; i < n; ++i) {
          RawFrame f;
          if (!get(&f.pc, "frame pc") || !get(&f.func, "frame function") ||
              !get(&f.file, "frame file") || !get(&f.line, "frame line")) {
            return Fail(bad);
          }
          stack.frames.push_back(f);
        }
        raw_stacks.emplace(id, std::move(stack));
        continue;
      }
      if (type == kEvEndOfGeneration) {
        ended = true;
        continue;
      }

      Event ev;
      ev.type = type;
      ev.m = m;
      ev.offset = ev_offset;
      uint64_t delta = 0;
      if (EventIsTimed(type) && !get(&delta, "time delta")) return Fail(bad);
      time += delta;  // wraps on corrupt input, which the reader does not care about
      ev.time = time;
      ev.nargs = static_cast<uint8_t>(EventArgCount(type));
      for (int i = 0; i < ev.nargs; ++i) {
        if (!get(&ev.args[i], "argument")) return Fail(bad);
      }
      if (type == kEvFatal) {
        if (out->fatal.present) {
          return Fail(absl::InvalidArgumentError(absl::StrFormat(
              "offset %d: a second Fatal record in generation %d", ev_offset, gen)));
        }
        out->fatal.present = true;
        out->fatal.g = ev.args[0];
        out->fatal.m = ev.args[1];
        out->fatal.signal = ev.args[2];
        fatal_message_id = ev.args[3];
        out->fatal.time = ev.time;
        out->fatal.offset = ev_offset;
        continue;
      }
      seq.push_back(ev);
    }
    if (m != 0 && raw_.size() > batch_begin) runs_of(m).push_back(Run{batch_begin, raw_.size()});
  }
  prev_gen_ = gen;
  have_prev_gen_ = true;
  out->gen = gen;

  if (out->fatal.present) {
    if (!out->strings.contains(fatal_message_id)) {
      return Fail(absl::InvalidArgumentError(absl::StrFormat(
          "offset %d: the Fatal record names string %d, which generation %d does not define",
          out->fatal.offset, fatal_message_id, gen)));
    }
    out->fatal.message = out->strings[fatal_message_id];
  }

  // Stack 0 is the empty stack, whatever the file says (a file defining stack 0 was
  // rejected above).
  out->stacks[0] = {};
  for (auto& [id, raw] : raw_stacks) {
    std::vector<Frame> frames;
    frames.reserve(raw.frames.size());
    for (size_t i = 0; i < raw.frames.size(); ++i) {
      const RawFrame& rf = raw.frames[i];
      for (uint64_t sid : {rf.func, rf.file}) {
        if (!out->strings.contains(sid)) {
          return Fail(absl::InvalidArgumentError(absl::StrFormat(
              "offset %d: frame %d of stack %d names string %d, which generation %d does "
              "not define",
              raw.offset, i, id, sid, gen)));
        }
      }
      frames.push_back(Frame{rf.pc, out->strings[rf.func], out->strings[rf.file], rf.line});
    }
    out->stacks.emplace(id, std::move(frames));
  }
  // Everything of the generation is read and resolved: it is complete, whatever the
  // validator later says of its events.
  complete_offset_ = offset_;
  ++complete_generations_;

  // Merge: structural status events first, then the Ms' sequences by time.
  StateMachine machine(out, /*check_ids=*/false);
  const size_t total = front.size() + raw_.size();
  out->events.reserve(total);
  for (const Event& ev : front) {
    (void)machine.Step(ev);  // errors are the validator's to report
    out->events.push_back(ev);
  }
  // One cursor per M (in m order) over its runs of raw_.
  struct Cursor {
    const std::vector<Run>* runs;
    size_t run = 0;  // the run of the head; runs->size() when the M is done
    size_t pos = 0;  // the head's index in raw_
  };
  std::vector<Cursor> heads;
  heads.reserve(per_m_.size());
  for (const auto& [m, index] : per_m_) {
    const std::vector<Run>& runs = run_pool_[index];
    heads.push_back(Cursor{&runs, 0, runs.front().begin});  // an M has a run or no entry
  }
  auto live = [&](size_t i) { return heads[i].run < heads[i].runs->size(); };
  auto head = [&](size_t i) -> const Event& { return raw_[heads[i].pos]; };
  std::vector<size_t> later;  // the other heads, when the earliest one is not possible yet
  for (size_t done = front.size(); done < total; ++done) {
    // The earliest head (the lowest m among equal times).
    size_t first = heads.size();
    for (size_t i = 0; i < heads.size(); ++i) {
      if (!live(i)) continue;
      if (first == heads.size() || head(i).time < head(first).time) first = i;
    }
    size_t chosen = first;
    if (!machine.Check(head(first)).ok()) {
      // Times of different Ms are only ordered to within the CPUs' reordering of the clock
      // read: try the other heads, earliest first, and take the first that is possible.
      // When none is, the earliest stays chosen and the validator reports it.
      later.clear();
      for (size_t i = 0; i < heads.size(); ++i) {
        if (i != first && live(i)) later.push_back(i);
      }
      std::stable_sort(later.begin(), later.end(),
                       [&](size_t a, size_t b) { return head(a).time < head(b).time; });
      for (size_t i : later) {
        if (machine.Check(head(i)).ok()) {
          chosen = i;
          const uint64_t ahead = head(i).time - head(first).time;
          ++out->reorders;
          out->max_reorder_ns = std::max(out->max_reorder_ns, ahead);
          break;
        }
      }
    }
    const Event& ev = head(chosen);
    (void)machine.Step(ev);
    out->events.push_back(ev);
    Cursor& c = heads[chosen];
    if (++c.pos == (*c.runs)[c.run].end && ++c.run < c.runs->size()) c.pos = (*c.runs)[c.run].begin;
  }
  return true;
}

}  // namespace goro::trace

// goro::trace::testing::TraceEncoder: a test-only trace file encoder. It writes the header,
// batches and events of format v1 exactly as told — including wrong things, so tests can
// build corrupt files — and reports the file offset of each event it writes.

#ifndef GORO_TRACER_READER_TEST_ENCODER_H_
#define GORO_TRACER_READER_TEST_ENCODER_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "tracer/format.h"
#include "tracer/wire.h"

namespace goro::trace::testing {

// goro::trace::testing::EncodedFrame is a stack frame as the file stores it (string ids).
struct EncodedFrame {
  uint64_t pc;
  uint64_t func;  // string id
  uint64_t file;  // string id
  uint64_t line;
};

// goro::trace::testing::TraceEncoder builds a trace file in memory.
// Thread safety: not thread-safe.
class TraceEncoder {
 public:
  // TraceEncoder::TraceEncoder writes the 16-byte header with `version`.
  explicit TraceEncoder(uint16_t version = kVersion) {
    out_.append(kMagic, sizeof(kMagic));
    uint8_t v[2];
    PutU16LE(v, version);
    out_.append(reinterpret_cast<const char*>(v), 2);
    out_.append(4, '\0');
  }

  // TraceEncoder::Batch ends the current batch (if any) and starts one.
  void Batch(uint64_t gen, uint64_t m, uint64_t base_time) {
    Flush();
    open_ = true;
    gen_ = gen;
    m_ = m;
    base_ = base_time;
    last_time_ = base_time;
    payload_.clear();
    payload_offset_ = out_.size() + 1 + Len(gen) + Len(m) + Len(base_time) + 4;
  }

  // TraceEncoder::Ev appends a timed event at absolute time `t` (which must not be before
  // the previous event of the batch) with `args`, and returns its file offset.
  uint64_t Ev(uint8_t type, uint64_t t, std::initializer_list<uint64_t> args) {
    const uint64_t off = Offset();
    payload_.push_back(static_cast<char>(type));
    Uvarint(t - last_time_);
    last_time_ = t;
    for (uint64_t a : args) Uvarint(a);
    return off;
  }

  // TraceEncoder::String appends a string table entry and returns its offset.
  uint64_t String(uint64_t id, std::string_view s) {
    const uint64_t off = Offset();
    payload_.push_back(static_cast<char>(kEvString));
    Uvarint(id);
    Uvarint(s.size());
    payload_.append(s);
    return off;
  }

  // TraceEncoder::Stack appends a stack table entry and returns its offset.
  uint64_t Stack(uint64_t id, const std::vector<EncodedFrame>& frames) {
    const uint64_t off = Offset();
    payload_.push_back(static_cast<char>(kEvStack));
    Uvarint(id);
    Uvarint(frames.size());
    for (const EncodedFrame& f : frames) {
      Uvarint(f.pc);
      Uvarint(f.func);
      Uvarint(f.file);
      Uvarint(f.line);
    }
    return off;
  }

  // TraceEncoder::EndOfGeneration appends the end marker and returns its offset.
  uint64_t EndOfGeneration() {
    const uint64_t off = Offset();
    payload_.push_back(static_cast<char>(kEvEndOfGeneration));
    return off;
  }

  // TraceEncoder::Raw appends raw bytes to the payload and returns their offset.
  uint64_t Raw(std::string_view bytes) {
    const uint64_t off = Offset();
    payload_.append(bytes);
    return off;
  }

  // TraceEncoder::Uvarint appends one uvarint to the payload.
  void Uvarint(uint64_t v) {
    uint8_t buf[kMaxVarintBytes];
    const uint8_t* end = PutUvarint(buf, v);
    payload_.append(reinterpret_cast<const char*>(buf), end - buf);
  }

  // TraceEncoder::Offset is the file offset the next payload byte will have.
  uint64_t Offset() const { return payload_offset_ + payload_.size(); }

  // TraceEncoder::Finish ends the current batch and returns the file's bytes.
  std::string Finish() {
    Flush();
    return out_;
  }

 private:
  static size_t Len(uint64_t v) {
    uint8_t buf[kMaxVarintBytes];
    return static_cast<size_t>(PutUvarint(buf, v) - buf);
  }

  void Flush() {
    if (!open_) return;
    open_ = false;
    out_.push_back(static_cast<char>(kEvBatch));
    uint8_t buf[3 * kMaxVarintBytes + 4];
    uint8_t* p = buf;
    p = PutUvarint(p, gen_);
    p = PutUvarint(p, m_);
    p = PutUvarint(p, base_);
    PutU32LE(p, static_cast<uint32_t>(payload_.size()));
    p += 4;
    out_.append(reinterpret_cast<const char*>(buf), p - buf);
    out_.append(payload_);
  }

  std::string out_;
  std::string payload_;
  bool open_ = false;
  uint64_t gen_ = 0, m_ = 0, base_ = 0, last_time_ = 0;
  uint64_t payload_offset_ = 0;
};

}  // namespace goro::trace::testing

#endif  // GORO_TRACER_READER_TEST_ENCODER_H_

// Batch encoding (batch.h).

#include "tracer/batch.h"

#include <time.h>

namespace goro::trace::internal {

size_t EncodeBatchHeader(uint8_t* out, uint64_t gen, uint64_t m, int64_t base_time,
                         uint32_t len) {
  uint8_t* p = out;
  *p++ = kEvBatch;
  p = PutUvarint(p, gen);
  p = PutUvarint(p, m);
  p = PutUvarint(p, static_cast<uint64_t>(base_time));
  PutU32LE(p, len);
  p += 4;
  return static_cast<size_t>(p - out);
}

void AppendBatchHeader(std::string* out, uint64_t gen, uint64_t m, int64_t base_time,
                       uint32_t len) {
  uint8_t header[kMaxBatchHeader];
  const size_t n = EncodeBatchHeader(header, gen, m, base_time, len);
  out->append(reinterpret_cast<const char*>(header), n);
}

void BatchBuilder::Append(const uint8_t* bytes, size_t n) {
  if (open_ && payload_.size() + n > kMaxBatchPayload) Finish();
  if (!open_) {
    open_ = true;
    base_time_ = last_time_ = NowNs();
  }
  payload_.append(reinterpret_cast<const char*>(bytes), n);
}

void BatchBuilder::Event(EventType type, int64_t now, std::initializer_list<uint64_t> args) {
  if (open_ && payload_.size() + kMaxEventBytes > kMaxBatchPayload) Finish();
  if (!open_) {
    open_ = true;
    base_time_ = last_time_ = now;
  }
  uint8_t buf[kMaxEventBytes];
  uint8_t* p = buf;
  *p++ = type;
  const int64_t delta = now > last_time_ ? now - last_time_ : 0;
  last_time_ += delta;
  p = PutUvarint(p, static_cast<uint64_t>(delta));
  for (uint64_t a : args) p = PutUvarint(p, a);
  payload_.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(p - buf));
}

void BatchBuilder::Finish() {
  if (!open_) return;
  AppendBatchHeader(out_, gen_, 0, base_time_, static_cast<uint32_t>(payload_.size()));
  out_->append(payload_);
  payload_.clear();
  open_ = false;
}

}  // namespace goro::trace::internal

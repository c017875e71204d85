// Encoding of events into batches (docs/trace-format.md): TraceBuf is one M's batch being
// filled on the hot path; BatchBuilder assembles the structural batches (m == 0) of a
// generation at flush time, starting a new batch whenever one is full.

#ifndef GORO_TRACER_BATCH_H_
#define GORO_TRACER_BATCH_H_

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "tracer/clock.h"
#include "tracer/format.h"
#include "tracer/wire.h"

namespace goro::trace::internal {

// Bytes of a batch header at most: type, gen, m, base time (uvarints) and the length.
inline constexpr size_t kMaxBatchHeader = 1 + 3 * kMaxVarintBytes + 4;
// Room one fixed-shape event needs at most: type, time delta, 4 arguments.
inline constexpr size_t kMaxEventBytes = 1 + 5 * kMaxVarintBytes;

// internal::EncodeBatchHeader writes a batch header for a payload of `len` bytes to `out`
// (kMaxBatchHeader bytes of room) and returns its length. Async-signal-safe.
size_t EncodeBatchHeader(uint8_t* out, uint64_t gen, uint64_t m, int64_t base_time,
                         uint32_t len);

// internal::AppendBatchHeader appends a batch header for a payload of `len` bytes.
void AppendBatchHeader(std::string* out, uint64_t gen, uint64_t m, int64_t base_time,
                       uint32_t len);

// internal::TraceBuf is one thread's batch for one generation. Owned by the thread inside
// its acquire window; handed to the writer when full or when the generation ends.
struct TraceBuf {
  // A small per-buffer cache of stacks already interned in this generation, so that a
  // repeated stack (the common case) costs a hash and a compare on this M instead of a
  // shard lock in the shared table. `pcs` points at the table's own copy, which lives
  // until the generation's table is dumped, after every buffer of the generation. Cleared
  // whenever the buffer is (re)used.
  struct StackCacheEntry {
    uint64_t hash;
    const uintptr_t* pcs;
    uint64_t n;
    uint64_t id;
  };
  static constexpr size_t kStackCacheSize = 128;

  uint64_t gen = 0;
  uint64_t m = 0;
  int64_t base_time = 0;
  int64_t last_time = 0;
  size_t len = 0;
  StackCacheEntry stack_cache[kStackCacheSize];
  uint8_t data[kMaxBatchPayload];

  bool HasRoom(size_t n) const { return len + n <= kMaxBatchPayload; }
  // Appends a timed event; the caller checked HasRoom(kMaxEventBytes).
  void Event(EventType type, int64_t now, std::initializer_list<uint64_t> args) {
    uint8_t* p = data + len;
    *p++ = type;
    const int64_t delta = now > last_time ? now - last_time : 0;
    last_time += delta;
    p = PutUvarint(p, static_cast<uint64_t>(delta));
    for (uint64_t a : args) p = PutUvarint(p, a);
    len = static_cast<size_t>(p - data);
  }
};

// internal::BatchBuilder collects structural events of one generation into m == 0
// batches in `out`.
class BatchBuilder {
 public:
  BatchBuilder(uint64_t gen, std::string* out) : gen_(gen), out_(out) {}
  ~BatchBuilder() { Finish(); }
  // Appends raw event bytes (one whole event), starting a new batch if needed.
  void Append(const uint8_t* bytes, size_t n);
  // Appends a timed fixed-shape event.
  void Event(EventType type, int64_t now, std::initializer_list<uint64_t> args);
  // Closes the open batch, if any.
  void Finish();

 private:
  uint64_t gen_;
  std::string* out_;
  std::string payload_;
  int64_t base_time_ = 0;
  int64_t last_time_ = 0;
  bool open_ = false;
};

}  // namespace goro::trace::internal

#endif  // GORO_TRACER_BATCH_H_

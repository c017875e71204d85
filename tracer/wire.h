// Little helpers for the trace file's encoding: unsigned LEB128 varints (uvarint) and the
// fixed little-endian fields of the header and the batch header. Used by the writer and the
// reader; the decoders are bounds-checked and never read past `end`.

#ifndef GORO_TRACER_WIRE_H_
#define GORO_TRACER_WIRE_H_

#include <cstddef>
#include <cstdint>

namespace goro::trace {

// Longest uvarint of a uint64_t.
inline constexpr size_t kMaxVarintBytes = 10;

// goro::trace::PutUvarint writes v at p (which must have kMaxVarintBytes of room) and
// returns the position after it.
inline uint8_t* PutUvarint(uint8_t* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<uint8_t>(v);
  return p;
}

// goro::trace::GetUvarint decodes a uvarint from [*p, end). On success stores it in *v,
// advances *p and returns true. Returns false (leaving *p unchanged) when the input ends
// inside the varint or the varint is longer than 10 bytes or overflows 64 bits.
inline bool GetUvarint(const uint8_t** p, const uint8_t* end, uint64_t* v) {
  uint64_t result = 0;
  const uint8_t* q = *p;
  for (unsigned shift = 0; shift < 64; shift += 7) {
    if (q == end) return false;
    const uint8_t byte = *q++;
    if (shift == 63 && byte > 1) return false;
    result |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if (byte < 0x80) {
      *v = result;
      *p = q;
      return true;
    }
  }
  return false;
}

// Fixed-width little-endian fields.
inline void PutU32LE(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline uint32_t GetU32LE(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}
inline void PutU16LE(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}
inline uint16_t GetU16LE(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }

}  // namespace goro::trace

#endif  // GORO_TRACER_WIRE_H_

// The control protocol's framing: a 4-byte big-endian length, then that many bytes: a kind
// byte ('J' for a JSON message, 'D' for a chunk of streamed data) and the payload. And
// FrameStream, which reads and writes frames on a socket with deadlines and a cancel fd.

#ifndef GORO_CONTROL_FRAME_H_
#define GORO_CONTROL_FRAME_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace goro::control {

// goro::control::FrameKind is the first byte after the length.
enum class FrameKind : uint8_t {
  kJson = 'J',  // a request, a reply header or a stream's final status (docs/control.md)
  kData = 'D',  // a chunk of a streamed reply (trace file, goroutine dump, flight snapshot)
};

// The largest frame (kind byte + payload) a server accepts from a client, and the largest a
// client accepts from a server. A longer length prefix is refused as soon as its 4 bytes
// arrive, before anything is allocated.
inline constexpr uint32_t kMaxRequestFrame = 64 * 1024;
inline constexpr uint32_t kMaxReplyFrame = 4 * 1024 * 1024;
// Streamed data goes out in chunks of this many payload bytes.
inline constexpr size_t kDataChunk = 256 * 1024;
inline constexpr size_t kFrameHeaderBytes = 4;

// goro::control::Frame is one decoded frame.
struct Frame {
  FrameKind kind = FrameKind::kJson;
  std::string payload;
};

// goro::control::EncodeFrame returns the bytes of a frame of `kind` carrying `payload`.
// Thread safety: pure function.
std::string EncodeFrame(FrameKind kind, absl::string_view payload);

// goro::control::DecodeFrameLength checks a frame's 4 length bytes against `max_frame`:
// InvalidArgument for 0 (a frame has at least its kind byte) or more than `max_frame`,
// naming both numbers. Thread safety: pure function.
absl::Status DecodeFrameLength(const unsigned char header[4], uint32_t max_frame,
                               uint32_t* length);

// goro::control::FrameStream reads and writes frames on a connected socket. Every wait is a
// poll() on the socket and on `cancel_fd` (an eventfd or pipe that becomes readable when the
// owner shuts down), bounded by a deadline: a peer that sends half a frame or stops reading
// costs at most the timeout. Sends use MSG_NOSIGNAL (no SIGPIPE). Does not own the fds.
// Thread safety: one thread per FrameStream.
class FrameStream {
 public:
  // `cancel_fd` < 0: no cancellation.
  FrameStream(int fd, int cancel_fd, uint32_t max_read_frame, absl::Duration io_timeout);

  // goro::control::FrameStream::Read reads one whole frame, which must arrive within the
  // stream's timeout from the call. Errors: OutOfRange at a clean end of stream before any
  // byte of the frame; DeadlineExceeded; Cancelled (cancel_fd readable); InvalidArgument for
  // a bad length or kind; DataLoss for an end of stream inside a frame; the recv error.
  absl::Status Read(Frame* frame);

  // goro::control::FrameStream::Write writes one frame within the stream's timeout. Errors
  // as Read, plus the send error (EPIPE when the peer has gone).
  absl::Status Write(FrameKind kind, absl::string_view payload);

  // goro::control::FrameStream::WaitReadableOrCancel waits up to `d` for the socket to
  // become readable or hung up (returns true) or for cancel_fd (Cancelled); false after `d`.
  absl::StatusOr<bool> WaitReadable(absl::Duration d);

  int fd() const { return fd_; }

 private:
  // Waits for `events` on fd_ until `deadline`.
  absl::Status Wait(short events, absl::Time deadline);
  absl::Status ReadExactly(char* buf, size_t n, absl::Time deadline, bool at_frame_start);

  const int fd_;                    // Constant after construction.
  const int cancel_fd_;             // Constant after construction.
  const uint32_t max_read_frame_;   // Constant after construction.
  const absl::Duration io_timeout_;  // Constant after construction.
};

}  // namespace goro::control

#endif  // GORO_CONTROL_FRAME_H_

// Frames on a stream socket, read and written without ever blocking past a deadline.

#include "control/frame.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace goro::control {

std::string EncodeFrame(FrameKind kind, absl::string_view payload) {
  uint32_t n = static_cast<uint32_t>(payload.size() + 1);
  std::string out;
  out.reserve(kFrameHeaderBytes + n);
  out.push_back(static_cast<char>(n >> 24));
  out.push_back(static_cast<char>(n >> 16));
  out.push_back(static_cast<char>(n >> 8));
  out.push_back(static_cast<char>(n));
  out.push_back(static_cast<char>(kind));
  out.append(payload.data(), payload.size());
  return out;
}

absl::Status DecodeFrameLength(const unsigned char header[4], uint32_t max_frame,
                               uint32_t* length) {
  uint32_t n = (uint32_t{header[0]} << 24) | (uint32_t{header[1]} << 16) |
               (uint32_t{header[2]} << 8) | uint32_t{header[3]};
  if (n == 0) return absl::InvalidArgumentError("control: frame of length 0 (no kind byte)");
  if (n > max_frame) {
    return absl::InvalidArgumentError(absl::StrCat("control: frame of ", n,
                                                   " bytes exceeds the limit of ", max_frame));
  }
  *length = n;
  return absl::OkStatus();
}

FrameStream::FrameStream(int fd, int cancel_fd, uint32_t max_read_frame,
                         absl::Duration io_timeout)
    : fd_(fd), cancel_fd_(cancel_fd), max_read_frame_(max_read_frame), io_timeout_(io_timeout) {}

absl::Status FrameStream::Wait(short events, absl::Time deadline) {
  for (;;) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError(
          absl::StrCat("control: peer too slow (timeout ", absl::FormatDuration(io_timeout_), ")"));
    }
    struct pollfd fds[2] = {{fd_, events, 0}, {cancel_fd_, POLLIN, 0}};
    int ms = static_cast<int>(absl::ToInt64Milliseconds(left)) + 1;
    int r = poll(fds, cancel_fd_ >= 0 ? 2 : 1, ms);
    if (r < 0) {
      if (errno == EINTR) continue;
      return absl::ErrnoToStatus(errno, "control: poll");
    }
    if (cancel_fd_ >= 0 && (fds[1].revents & POLLIN) != 0) {
      return absl::CancelledError("control: the process is shutting down its control socket");
    }
    if (fds[0].revents != 0) return absl::OkStatus();
  }
}

absl::StatusOr<bool> FrameStream::WaitReadable(absl::Duration d) {
  absl::Status st = Wait(POLLIN, absl::Now() + d);
  if (st.ok()) return true;
  if (absl::IsDeadlineExceeded(st)) return false;
  return st;
}

absl::Status FrameStream::ReadExactly(char* buf, size_t n, absl::Time deadline,
                                      bool at_frame_start) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = recv(fd_, buf + got, n - got, MSG_DONTWAIT);
    if (r > 0) {
      got += static_cast<size_t>(r);
      continue;
    }
    if (r == 0) {
      if (got == 0 && at_frame_start) return absl::OutOfRangeError("control: end of stream");
      return absl::DataLossError("control: the peer closed the connection inside a frame");
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return absl::ErrnoToStatus(errno, "control: recv");
    }
    if (absl::Status st = Wait(POLLIN, deadline); !st.ok()) return st;
  }
  return absl::OkStatus();
}

absl::Status FrameStream::Read(Frame* frame) {
  absl::Time deadline = absl::Now() + io_timeout_;
  unsigned char header[kFrameHeaderBytes];
  if (absl::Status st =
          ReadExactly(reinterpret_cast<char*>(header), sizeof(header), deadline, true);
      !st.ok()) {
    return st;
  }
  uint32_t n = 0;
  if (absl::Status st = DecodeFrameLength(header, max_read_frame_, &n); !st.ok()) return st;
  std::string body(n, '\0');
  if (absl::Status st = ReadExactly(body.data(), n, deadline, false); !st.ok()) return st;
  auto kind = static_cast<FrameKind>(static_cast<unsigned char>(body[0]));
  if (kind != FrameKind::kJson && kind != FrameKind::kData) {
    return absl::InvalidArgumentError(absl::StrCat(
        "control: unknown frame kind ", static_cast<int>(static_cast<unsigned char>(body[0])),
        " (want 'J' or 'D')"));
  }
  frame->kind = kind;
  frame->payload = body.substr(1);
  return absl::OkStatus();
}

absl::Status FrameStream::Write(FrameKind kind, absl::string_view payload) {
  absl::Time deadline = absl::Now() + io_timeout_;
  std::string bytes = EncodeFrame(kind, payload);
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t r = send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (r >= 0) {
      sent += static_cast<size_t>(r);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return absl::ErrnoToStatus(errno, "control: send");
    }
    if (absl::Status st = Wait(POLLOUT, deadline); !st.ok()) return st;
  }
  return absl::OkStatus();
}

}  // namespace goro::control

// SO_PEERCRED and the rule for who is served.

#include "control/peer.h"

#include <sys/socket.h>

#include <cerrno>

#include "absl/strings/str_cat.h"

namespace goro::control {

absl::StatusOr<PeerCredentials> GetPeerCredentials(int fd) {
  struct ucred cred;
  socklen_t len = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return absl::ErrnoToStatus(errno, "control: getsockopt(SO_PEERCRED)");
  }
  return PeerCredentials{cred.pid, cred.uid, cred.gid};
}

bool PeerAllowed(const PeerCredentials& peer, uid_t own_uid) {
  return peer.uid == own_uid || peer.uid == 0;
}

std::string PeerName(const PeerCredentials& peer) {
  return absl::StrCat("pid ", peer.pid, " uid ", peer.uid);
}

}  // namespace goro::control

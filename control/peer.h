// Who is on the other end of a control connection (SO_PEERCRED), and whether they may be
// served: the process's own effective uid, or root.

#ifndef GORO_CONTROL_PEER_H_
#define GORO_CONTROL_PEER_H_

#include <sys/types.h>

#include <string>

#include "absl/status/statusor.h"

namespace goro::control {

// goro::control::PeerCredentials is what the kernel recorded for the peer at connect().
struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

// goro::control::GetPeerCredentials reads SO_PEERCRED of the connected Unix socket `fd`.
// Errors: the getsockopt error. Thread safety: thread-safe.
absl::StatusOr<PeerCredentials> GetPeerCredentials(int fd);

// goro::control::PeerAllowed reports whether `peer` may be served by a process whose
// effective uid is `own_uid`: the same uid, or root (uid 0).
// Thread safety: pure function.
bool PeerAllowed(const PeerCredentials& peer, uid_t own_uid);

// goro::control::PeerName returns "pid P uid U", the origin detail of a change the peer
// makes. Thread safety: pure function.
std::string PeerName(const PeerCredentials& peer);

}  // namespace goro::control

#endif  // GORO_CONTROL_PEER_H_

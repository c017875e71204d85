// Where a goro process's control socket lives, and how its directory is made safe.
// docs/control.md, "Where the socket is", is the user-facing description.

#ifndef GORO_CONTROL_SOCKET_PATH_H_
#define GORO_CONTROL_SOCKET_PATH_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace goro::control {

// goro::control::ServerSocketDirectory returns the directory the calling process serves its
// socket in: $GORO_CONTROL_DIR if set, else $XDG_RUNTIME_DIR/goro if XDG_RUNTIME_DIR is an
// absolute path, else /tmp/goro-EUID.
// Thread safety: thread-safe (reads the environment).
std::string ServerSocketDirectory();

// goro::control::SocketPathIn returns DIR/PID.sock.
// Thread safety: pure function.
std::string SocketPathIn(const std::string& dir, pid_t pid);

// goro::control::CandidateSocketPaths returns, in the order a client tries them, the paths
// where process `pid` (owned by `target_uid`) may serve its socket: $GORO_CONTROL_DIR, the
// client's own $XDG_RUNTIME_DIR/goro when the uids match, /run/user/UID/goro and
// /tmp/goro-UID. Duplicates are removed.
// Thread safety: thread-safe (reads the environment).
std::vector<std::string> CandidateSocketPaths(pid_t pid, uid_t target_uid);

// goro::control::EnsurePrivateDirectory creates `dir` with mode 0700 if it is missing (its
// parent must exist), then checks that it is a directory (not a symlink) owned by the
// effective uid with no group or other permission bits. Errors: PermissionDenied naming
// the path, owner and mode when a directory someone else made is in the way;
// the mkdir/lstat error otherwise.
// Thread safety: thread-safe.
absl::Status EnsurePrivateDirectory(const std::string& dir);

// goro::control::ProcessExists reports whether a process with this pid exists (kill(pid,
// 0) does not fail with ESRCH).
// Thread safety: thread-safe.
bool ProcessExists(pid_t pid);

// goro::control::RemoveStaleSockets unlinks every N.sock in `dir` whose process N no
// longer exists (left behind by a goro process that was killed). Returns how many.
// Thread safety: thread-safe.
int RemoveStaleSockets(const std::string& dir);

}  // namespace goro::control

#endif  // GORO_CONTROL_SOCKET_PATH_H_

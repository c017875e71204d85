// Socket paths and the private directory that holds them.
//
// The directory, not the socket's own mode, is what keeps other users out: on Linux
// connect() needs write permission on the socket file, but a directory of mode 0700 owned
// by us stops everyone but root before they reach it. A directory that exists with the
// wrong owner or mode (someone pre-created /tmp/goro-1000 to catch our socket) is refused,
// never fixed up.

#include "control/socket_path.h"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"

namespace goro::control {
namespace {

const char* NonEmptyEnv(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && v[0] != '\0' ? v : nullptr;
}

}  // namespace

std::string ServerSocketDirectory() {
  if (const char* d = NonEmptyEnv("GORO_CONTROL_DIR")) return d;
  if (const char* x = NonEmptyEnv("XDG_RUNTIME_DIR"); x != nullptr && x[0] == '/') {
    return absl::StrCat(x, "/goro");
  }
  return absl::StrCat("/tmp/goro-", geteuid());
}

std::string SocketPathIn(const std::string& dir, pid_t pid) {
  return absl::StrCat(dir, "/", pid, ".sock");
}

std::vector<std::string> CandidateSocketPaths(pid_t pid, uid_t target_uid) {
  std::vector<std::string> dirs;
  if (const char* d = NonEmptyEnv("GORO_CONTROL_DIR")) dirs.push_back(d);
  if (const char* x = NonEmptyEnv("XDG_RUNTIME_DIR");
      x != nullptr && x[0] == '/' && geteuid() == target_uid) {
    dirs.push_back(absl::StrCat(x, "/goro"));
  }
  dirs.push_back(absl::StrCat("/run/user/", target_uid, "/goro"));
  dirs.push_back(absl::StrCat("/tmp/goro-", target_uid));
  std::vector<std::string> paths;
  for (const std::string& d : dirs) {
    std::string p = SocketPathIn(d, pid);
    if (std::find(paths.begin(), paths.end(), p) == paths.end()) paths.push_back(p);
  }
  return paths;
}

absl::Status EnsurePrivateDirectory(const std::string& dir) {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::ErrnoToStatus(errno, absl::StrCat("control socket: mkdir ", dir));
  }
  struct stat st;
  if (lstat(dir.c_str(), &st) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("control socket: lstat ", dir));
  }
  if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
    return absl::PermissionDeniedError(absl::StrFormat(
        "control socket: %s is not a private directory (%s, owner uid %d, mode %04o; want a "
        "directory owned by uid %d with mode 0700); not serving",
        dir, S_ISDIR(st.st_mode) ? "directory" : "not a directory", st.st_uid,
        st.st_mode & 07777, geteuid()));
  }
  return absl::OkStatus();
}

bool ProcessExists(pid_t pid) {
  if (pid <= 0) return false;
  return kill(pid, 0) == 0 || errno != ESRCH;
}

int RemoveStaleSockets(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return 0;
  int removed = 0;
  while (struct dirent* e = readdir(d)) {
    absl::string_view name = e->d_name;
    if (!absl::ConsumeSuffix(&name, ".sock")) continue;
    int pid = 0;
    if (!absl::SimpleAtoi(name, &pid) || pid <= 0 || ProcessExists(pid)) continue;
    std::string path = absl::StrCat(dir, "/", e->d_name);
    if (unlink(path.c_str()) == 0) ++removed;
  }
  closedir(d);
  return removed;
}

}  // namespace goro::control

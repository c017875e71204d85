// Where the registry reads GORODEBUG at start: the process environment and the auxiliary
// vector's AT_SECURE flag, behind an interface so tests can inject their own.

#ifndef GORO_DEBUGVARS_ENVIRONMENT_H_
#define GORO_DEBUGVARS_ENVIRONMENT_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace goro::debugvars {

// goro::debugvars::EnvironmentSource supplies environment variables and the secure-mode bit.
class EnvironmentSource {
 public:
  virtual ~EnvironmentSource() = default;
  // Returns the variable's value, or nullopt when it is unset.
  virtual std::optional<std::string> Get(absl::string_view name) const = 0;
  // Returns true when the process runs with AT_SECURE (setuid, setgid or file
  // capabilities); the registry then ignores GORODEBUG.
  virtual bool IsSecure() const = 0;
};

// goro::debugvars::ProcessEnvironment reads getenv() and getauxval(AT_SECURE).
// Thread safety: thread-safe as long as nobody calls setenv() concurrently.
const EnvironmentSource& ProcessEnvironment();

}  // namespace goro::debugvars

#endif  // GORO_DEBUGVARS_ENVIRONMENT_H_

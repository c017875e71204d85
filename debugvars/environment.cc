// The process environment as an EnvironmentSource.

#include "debugvars/environment.h"

#include <sys/auxv.h>

#include <cstdlib>

namespace goro::debugvars {
namespace {

class RealEnvironment final : public EnvironmentSource {
 public:
  std::optional<std::string> Get(absl::string_view name) const override {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  }
  bool IsSecure() const override { return getauxval(AT_SECURE) != 0; }
};

}  // namespace

const EnvironmentSource& ProcessEnvironment() {
  static const RealEnvironment* env = new RealEnvironment;
  return *env;
}

}  // namespace goro::debugvars

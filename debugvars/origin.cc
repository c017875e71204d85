// Names of value origins.

#include "debugvars/origin.h"

namespace goro::debugvars {

absl::string_view OriginName(Origin origin) {
  switch (origin) {
    case Origin::kDefault:
      return "default";
    case Origin::kBuildDefault:
      return "build";
    case Origin::kEnvironment:
      return "env";
    case Origin::kFlag:
      return "flag";
    case Origin::kApi:
      return "api";
    case Origin::kControl:
      return "control";
  }
  return "?";
}

}  // namespace goro::debugvars

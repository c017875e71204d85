// The Go-style text form of symbolized frames (frame.h).

#include "symbolize/frame.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace goro::symbolize {

std::string FormatFrame(const Frame& frame) {
  std::string out = absl::StrCat(frame.function, "\n\t", frame.file, ":", frame.line);
  if (frame.offset != 0) absl::StrAppendFormat(&out, " +0x%x", frame.offset);
  if (frame.line == 0) {
    absl::StrAppendFormat(&out, " pc=0x%x", frame.pc);
    if (!frame.module.empty()) absl::StrAppend(&out, " (", frame.module, ")");
  }
  return out;
}

std::string FormatFrames(const std::vector<Frame>& frames) {
  std::string out;
  for (const Frame& f : frames) absl::StrAppend(&out, FormatFrame(f), "\n");
  return out;
}

}  // namespace goro::symbolize

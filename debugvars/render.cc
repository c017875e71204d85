// Text, JSON and Markdown renderings of registry snapshots.

#include "debugvars/render.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace goro::debugvars {
namespace {

std::string JsonString(absl::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          // Settings hold text; escape every byte outside printable ASCII so the JSON is
          // valid whatever a string setting contains.
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += "\"";
  return out;
}

std::string TimeString(absl::Time t) {
  if (t == absl::InfinitePast()) return "";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

}  // namespace

std::string RenderTable(const std::vector<SettingSnapshot>& settings) {
  std::string out;
  for (const SettingSnapshot& s : settings) {
    absl::StrAppend(&out, s.name, "=", s.value, "  [", s.type, "; default ",
                    s.default_value.empty() ? "\"\"" : s.default_value, "; from ",
                    OriginName(s.origin), "; ", MutabilityName(s.mutability));
    if (s.counts_non_default) absl::StrAppend(&out, "; non-default uses ", s.non_default_count);
    if (s.update_count > 0) absl::StrAppend(&out, "; updates ", s.update_count);
    absl::StrAppend(&out, "]\n    ", s.doc, "\n");
  }
  return out;
}

std::string RenderJson(const std::vector<SettingSnapshot>& settings) {
  std::string out = "[";
  for (size_t i = 0; i < settings.size(); ++i) {
    const SettingSnapshot& s = settings[i];
    absl::StrAppend(&out, i == 0 ? "\n" : ",\n", "  {\"name\": ", JsonString(s.name),
                    ", \"type\": ", JsonString(s.type), ", \"value\": ", JsonString(s.value),
                    ", \"default\": ", JsonString(s.default_value),
                    ", \"origin\": ", JsonString(OriginName(s.origin)),
                    ", \"mutability\": ", JsonString(MutabilityName(s.mutability)),
                    ", \"counts_non_default\": ", s.counts_non_default ? "true" : "false",
                    ", \"non_default_count\": ", s.non_default_count,
                    ", \"update_count\": ", s.update_count,
                    ", \"last_reason\": ", JsonString(s.last_reason),
                    ", \"last_update\": ", JsonString(TimeString(s.last_update)),
                    ", \"doc\": ", JsonString(s.doc), "}");
  }
  absl::StrAppend(&out, settings.empty() ? "]\n" : "\n]\n");
  return out;
}

std::string RenderMarkdown(const std::vector<SettingSnapshot>& settings) {
  std::string out =
      "| name | type | default | mutability | effect |\n"
      "|---|---|---|---|---|\n";
  for (const SettingSnapshot& s : settings) {
    absl::StrAppend(&out, "| `", s.name, "` | ", absl::StrReplaceAll(s.type, {{"|", "\\|"}}),
                    " | `", s.default_value.empty() ? "\"\"" : s.default_value, "` | ",
                    MutabilityName(s.mutability), " | ",
                    absl::StrReplaceAll(s.doc, {{"|", "\\|"}, {"\n", " "}}), " |\n");
  }
  return out;
}

}  // namespace goro::debugvars

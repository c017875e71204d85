// Text, JSON and Markdown renderings of registry snapshots.

#include "debugvars/render.h"

#include <cstdint>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace goro::debugvars {
namespace {

// Decodes one well-formed UTF-8 sequence of 2 to 4 bytes at the start of `s` (shortest form,
// no surrogates, at most U+10FFFF). Returns its length, or 0 if `s` does not start with one.
size_t DecodeUtf8(absl::string_view s, uint32_t* cp) {
  const auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  size_t n;
  uint32_t min;
  if (b(0) >= 0xc2 && b(0) <= 0xdf) {
    n = 2, min = 0x80, *cp = b(0) & 0x1fu;
  } else if (b(0) >= 0xe0 && b(0) <= 0xef) {
    n = 3, min = 0x800, *cp = b(0) & 0x0fu;
  } else if (b(0) >= 0xf0 && b(0) <= 0xf4) {
    n = 4, min = 0x10000, *cp = b(0) & 0x07u;
  } else {
    return 0;
  }
  if (s.size() < n) return 0;
  for (size_t i = 1; i < n; ++i) {
    if ((b(i) & 0xc0) != 0x80) return 0;
    *cp = (*cp << 6) | (b(i) & 0x3fu);
  }
  if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff)) return 0;
  return n;
}

void AppendJsonEscape(uint32_t unit, std::string* out) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(unit));
  *out += buf;
}

std::string JsonString(absl::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      // Settings hold text: well-formed UTF-8 becomes the same characters, escaped so the
      // output stays ASCII; a byte that is not part of one becomes U+FFFD, so the JSON is
      // valid whatever a string setting contains.
      uint32_t cp = 0;
      size_t n = DecodeUtf8(s.substr(i), &cp);
      if (n == 0) {
        AppendJsonEscape(0xfffd, &out);
      } else if (cp < 0x10000) {
        AppendJsonEscape(cp, &out);
      } else {
        AppendJsonEscape(0xd800 + ((cp - 0x10000) >> 10), &out);
        AppendJsonEscape(0xdc00 + ((cp - 0x10000) & 0x3ff), &out);
      }
      if (n > 1) i += n - 1;
      continue;
    }
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
        if (c < 0x20 || c == 0x7f) {
          AppendJsonEscape(c, &out);
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
                    OriginName(s.origin));
    if (!s.origin_detail.empty()) absl::StrAppend(&out, " (", s.origin_detail, ")");
    absl::StrAppend(&out, "; ", MutabilityName(s.mutability));
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
                    ", \"origin_detail\": ", JsonString(s.origin_detail),
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

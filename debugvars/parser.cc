// Syntax of GORODEBUG strings: splitting, key checks, duplicate detection, quoting.

#include "debugvars/parser.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace goro::debugvars {
namespace {

constexpr size_t kQuoteLimit = 64;

}  // namespace

bool IsValidKey(absl::string_view key) {
  if (key.empty() || key[0] < 'a' || key[0] > 'z') return false;
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string QuoteForMessage(absl::string_view bytes) {
  if (bytes.size() <= kQuoteLimit) return absl::StrCat("\"", absl::CHexEscape(bytes), "\"");
  return absl::StrCat("\"", absl::CHexEscape(bytes.substr(0, kQuoteLimit)), "\"... (",
                      bytes.size(), " bytes)");
}

ParseResult Parse(absl::string_view input, absl::string_view where) {
  ParseResult result;
  if (input.size() > kMaxInputBytes) {
    result.problems.push_back(
        {ProblemKind::kInputTooLong, 0, "",
         absl::StrCat("gorodebug: ", where, " is ", input.size(), " bytes, over the limit of ",
                      kMaxInputBytes, "; ignored whole")});
    return result;
  }
  if (input.empty()) return result;
  size_t pieces = static_cast<size_t>(std::count(input.begin(), input.end(), ',')) + 1;
  if (pieces > kMaxEntries) {
    result.problems.push_back(
        {ProblemKind::kTooManyEntries, 0, "",
         absl::StrCat("gorodebug: ", where, " has ", pieces, " entries, over the limit of ",
                      kMaxEntries, "; ignored whole")});
    return result;
  }

  // Index of each key's entry in result.entries, to drop earlier duplicates.
  absl::flat_hash_map<absl::string_view, size_t> seen;
  std::vector<Entry> all;
  size_t start = 0;
  while (start <= input.size()) {
    size_t comma = input.find(',', start);
    if (comma == absl::string_view::npos) comma = input.size();
    absl::string_view piece = input.substr(start, comma - start);
    size_t offset = start;
    start = comma + 1;

    if (piece.empty()) {
      result.problems.push_back(
          {ProblemKind::kEmptyEntry, offset, "",
           absl::StrCat("gorodebug: empty entry at byte ", offset, " of ", where,
                        " (stray comma)")});
      continue;
    }
    size_t eq = piece.find('=');
    if (eq == absl::string_view::npos) {
      if (piece == "help") {
        result.help = true;
        continue;
      }
      result.problems.push_back(
          {ProblemKind::kMissingEquals, offset, QuoteForMessage(piece),
           absl::StrCat("gorodebug: entry ", QuoteForMessage(piece), " at byte ", offset, " of ",
                        where, " has no '=' (want key=value)")});
      continue;
    }
    absl::string_view key = piece.substr(0, eq);
    absl::string_view value = piece.substr(eq + 1);
    if (key.empty()) {
      result.problems.push_back(
          {ProblemKind::kEmptyKey, offset, "",
           absl::StrCat("gorodebug: entry ", QuoteForMessage(piece), " at byte ", offset, " of ",
                        where, " has an empty key (want key=value)")});
      continue;
    }
    if (!IsValidKey(key)) {
      result.problems.push_back(
          {ProblemKind::kBadKey, offset, QuoteForMessage(key),
           absl::StrCat("gorodebug: malformed key ", QuoteForMessage(key), " at byte ", offset,
                        " of ", where, " (keys match [a-z][a-z0-9_.]*)")});
      continue;
    }
    if (value.find('=') != absl::string_view::npos) {
      result.problems.push_back(
          {ProblemKind::kExtraEquals, offset, std::string(key),
           absl::StrCat("gorodebug: entry ", QuoteForMessage(piece), " at byte ", offset, " of ",
                        where, " has more than one '=' (values cannot contain '='; "
                        "is a comma missing?)")});
      continue;
    }
    auto [it, inserted] = seen.try_emplace(key, all.size());
    if (!inserted) {
      const Entry& earlier = all[it->second];
      result.problems.push_back(
          {ProblemKind::kDuplicateKey, earlier.offset, std::string(key),
           absl::StrCat("gorodebug: ", QuoteForMessage(key), " appears more than once in ",
                        where, "; the last value ", QuoteForMessage(value), " (byte ", offset,
                        ") wins over ", QuoteForMessage(earlier.value), " (byte ",
                        earlier.offset, ")")});
      it->second = all.size();
    }
    all.push_back({key, value, offset});
  }
  for (size_t i = 0; i < all.size(); ++i) {
    if (seen[all[i].key] == i) result.entries.push_back(all[i]);
  }
  return result;
}

}  // namespace goro::debugvars

// The GORODEBUG grammar: "key=value" entries separated by commas; the last entry for a key
// wins. Parsing is pure syntax: it knows no settings and never rewrites its input.

#ifndef GORO_DEBUGVARS_PARSER_H_
#define GORO_DEBUGVARS_PARSER_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace goro::debugvars {

// Limits on one input string. Inputs over either limit are rejected whole.
inline constexpr size_t kMaxInputBytes = 64 * 1024;
inline constexpr size_t kMaxEntries = 1024;

// goro::debugvars::ProblemKind classifies everything wrong with an input. Each kind is a
// warning at start (a fatal error with strict=1) and an error status through the API.
enum class ProblemKind {
  kInputTooLong,    // more than kMaxInputBytes; nothing applied
  kTooManyEntries,  // more than kMaxEntries entries; nothing applied
  kEmptyEntry,      // ",," or a leading or trailing comma
  kMissingEquals,   // "foo" with no '=' (other than the bare "help")
  kEmptyKey,        // "=1"
  kBadKey,          // key outside [a-z][a-z0-9_.]*
  kExtraEquals,     // "a=b=c": '=' inside the value
  kDuplicateKey,    // the key appears again later; the later value wins
  kUnknownKey,      // no setting of that name (with a did-you-mean hint)
  kBadValue,        // malformed or out of range for the setting's type
  kFrozen,          // a startup setting changed after the registry was frozen
  kHelpNotAtStart,  // "help" through the API; it is only read at start
};

// goro::debugvars::Problem is one diagnosed fault of an input string.
struct Problem {
  ProblemKind kind;
  size_t offset = 0;  // byte offset of the entry in its input
  std::string key;    // the entry's key (escaped, possibly truncated), if it has one
  std::string message;  // one line, no trailing newline, starting "gorodebug: "
};

// goro::debugvars::Entry is one syntactically valid "key=value" entry. The views point into
// the parsed input and live as long as it does.
struct Entry {
  absl::string_view key;
  absl::string_view value;
  size_t offset = 0;  // byte offset of the entry in its input
};

// goro::debugvars::ParseResult holds the entries that survived syntax checks, one per key
// (the last one written), in input order, and every problem found.
struct ParseResult {
  std::vector<Entry> entries;
  std::vector<Problem> problems;
  bool help = false;  // a bare "help" entry was present
};

// goro::debugvars::Parse splits `input` into entries. `where` names the input in messages
// ("GORODEBUG", "--gorodebug", ...). Runs in time linear in the input.
// Thread safety: thread-safe (pure function).
ParseResult Parse(absl::string_view input, absl::string_view where);

// goro::debugvars::IsValidKey reports whether `key` matches [a-z][a-z0-9_.]*.
// Thread safety: thread-safe.
bool IsValidKey(absl::string_view key);

// goro::debugvars::QuoteForMessage renders untrusted bytes for a one-line message: C-escaped,
// in double quotes, cut to about 64 bytes with the full length noted.
// Thread safety: thread-safe.
std::string QuoteForMessage(absl::string_view bytes);

}  // namespace goro::debugvars

#endif  // GORO_DEBUGVARS_PARSER_H_

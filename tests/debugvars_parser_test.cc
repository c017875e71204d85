// Table-driven tests of the GORODEBUG grammar (debugvars/parser.h): every rule, the caps, and
// hostile input. The parser knows no settings, so these tests need no registry.

#include "debugvars/parser.h"

#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace goro::debugvars {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

// Longest message any problem may carry: QuoteForMessage cuts untrusted bytes to 64 (up to
// 4 bytes each once escaped), and the fixed text around them is short.
constexpr size_t kMaxMessageBytes = 640;

std::string Entries(const ParseResult& r) {
  std::vector<std::string> parts;
  for (const Entry& e : r.entries) parts.push_back(absl::StrCat(e.key, "=", e.value));
  return absl::StrJoin(parts, ",");
}

std::vector<ProblemKind> Kinds(const ParseResult& r) {
  std::vector<ProblemKind> kinds;
  for (const Problem& p : r.problems) kinds.push_back(p.kind);
  return kinds;
}

// Every message is one short, printable line that starts with "gorodebug: ".
void ExpectWellFormedMessages(const ParseResult& r) {
  for (const Problem& p : r.problems) {
    EXPECT_THAT(p.message, StartsWith("gorodebug: "));
    EXPECT_LE(p.message.size(), kMaxMessageBytes) << p.message.substr(0, 200);
    for (unsigned char c : p.message) {
      ASSERT_TRUE(c >= 0x20 && c < 0x7f) << "non-printable byte " << int{c} << " in "
                                          << p.message.substr(0, 200);
    }
    for (unsigned char c : p.key) {
      ASSERT_TRUE(c >= 0x20 && c < 0x7f) << "non-printable byte " << int{c} << " in key";
    }
  }
}

struct GrammarCase {
  const char* name;
  std::string input;
  std::string want_entries;  // "k=v,k=v" of the surviving entries, in order
  std::vector<ProblemKind> want_problems;
  bool want_help = false;
};

std::vector<GrammarCase> GrammarCases() {
  using K = ProblemKind;
  return {
      {"Empty", "", "", {}},
      {"OneEntry", "a=1", "a=1", {}},
      {"TwoEntries", "a=1,b=2", "a=1,b=2", {}},
      {"EmptyValue", "a=", "a=", {}},
      {"LastEntryWins", "a=1,b=2,a=3", "b=2,a=3", {K::kDuplicateKey}},
      {"LastOfThreeWins", "a=1,a=2,a=3", "a=3", {K::kDuplicateKey, K::kDuplicateKey}},
      {"LeadingComma", ",a=1", "a=1", {K::kEmptyEntry}},
      {"TrailingComma", "a=1,", "a=1", {K::kEmptyEntry}},
      {"DoubleComma", "a=1,,b=2", "a=1,b=2", {K::kEmptyEntry}},
      {"OnlyComma", ",", "", {K::kEmptyEntry, K::kEmptyEntry}},
      {"OnlyCommas", ",,,", "", {K::kEmptyEntry, K::kEmptyEntry, K::kEmptyEntry, K::kEmptyEntry}},
      {"MissingEquals", "a", "", {K::kMissingEquals}},
      {"MissingEqualsKeepsOthers", "a=1,b,c=3", "a=1,c=3", {K::kMissingEquals}},
      {"BareHelp", "help", "", {}, true},
      {"HelpAmongEntries", "a=1,help,b=2", "a=1,b=2", {}, true},
      {"HelpTwice", "help,help", "", {}, true},
      {"HelpWithValueIsAnEntry", "help=1", "help=1", {}},
      {"HelpUpperCaseIsNotHelp", "HELP", "", {K::kMissingEquals}},
      {"EmptyKey", "=1", "", {K::kEmptyKey}},
      {"OnlyEquals", "=", "", {K::kEmptyKey}},
      {"EqualsEquals", "==", "", {K::kEmptyKey}},
      {"UpperCaseKey", "Abc=1", "", {K::kBadKey}},
      {"DigitFirstKey", "1abc=1", "", {K::kBadKey}},
      {"UnderscoreFirstKey", "_a=1", "", {K::kBadKey}},
      {"DashInKey", "a-b=1", "", {K::kBadKey}},
      {"SpaceInKey", "a b=1", "", {K::kBadKey}},
      {"LeadingSpace", " a=1", "", {K::kBadKey}},
      {"KeyWithDotsDigitsUnderscores", "a.b_c9=1", "a.b_c9=1", {}},
      {"SpaceInValueIsKept", "a= 1", "a= 1", {}},
      {"EqualsInValue", "a=b=c", "", {K::kExtraEquals}},
      {"EqualsAtValueEnd", "a=1=", "", {K::kExtraEquals}},
      {"EqualsAtValueStart", "a==1", "", {K::kExtraEquals}},
      {"EqualsInValueKeepsOthers", "x=1,a=b=c,y=2", "x=1,y=2", {K::kExtraEquals}},
      {"BadDuplicateDoesNotHideGood", "a=1,a=b=c", "a=1", {K::kExtraEquals}},
      {"EveryProblemAtOnce", ",=1,A=1,a,b=c=d,e=1,e=2,", "e=2",
       {K::kEmptyEntry, K::kEmptyKey, K::kBadKey, K::kMissingEquals, K::kExtraEquals,
        K::kDuplicateKey, K::kEmptyEntry}},
  };
}

TEST(Parser, FollowsEveryGrammarRule) {
  for (const GrammarCase& c : GrammarCases()) {
    SCOPED_TRACE(c.name);
    ParseResult r = Parse(c.input, "GORODEBUG");
    EXPECT_EQ(Entries(r), c.want_entries);
    EXPECT_EQ(Kinds(r), c.want_problems);
    EXPECT_EQ(r.help, c.want_help);
    ExpectWellFormedMessages(r);
    for (const Entry& e : r.entries) {
      // Entries point into the input.
      EXPECT_GE(e.key.data(), c.input.data());
      EXPECT_LE(e.value.data() + e.value.size(), c.input.data() + c.input.size());
      EXPECT_EQ(c.input.substr(e.offset, e.key.size()), e.key);
    }
  }
}

TEST(Parser, RecordsOffsetsOfEntriesAndProblems) {
  ParseResult r = Parse("a=1,,bb=2,C=3", "X");
  ASSERT_EQ(r.entries.size(), 2u);
  EXPECT_EQ(r.entries[0].offset, 0u);
  EXPECT_EQ(r.entries[1].offset, 5u);
  ASSERT_EQ(r.problems.size(), 2u);
  EXPECT_EQ(r.problems[0].offset, 4u);  // the empty entry between the commas
  EXPECT_EQ(r.problems[1].offset, 10u);
}

TEST(Parser, ReportsDuplicateWithBothValues) {
  ParseResult r = Parse("gctrace=1,other=0,gctrace=2", "GORODEBUG");
  ASSERT_EQ(r.problems.size(), 1u);
  const Problem& p = r.problems[0];
  EXPECT_EQ(p.kind, ProblemKind::kDuplicateKey);
  EXPECT_EQ(p.key, "gctrace");
  EXPECT_THAT(p.message, HasSubstr("\"gctrace\""));
  EXPECT_THAT(p.message, HasSubstr("\"1\""));
  EXPECT_THAT(p.message, HasSubstr("\"2\""));
  EXPECT_THAT(p.message, HasSubstr("GORODEBUG"));
  EXPECT_EQ(Entries(r), "other=0,gctrace=2");
}

TEST(Parser, NamesTheSourceInEveryMessage) {
  ParseResult r = Parse(",=1,A=1,a,b=c=d,e=1,e=2", "--gorodebug");
  ASSERT_FALSE(r.problems.empty());
  for (const Problem& p : r.problems) EXPECT_THAT(p.message, HasSubstr("--gorodebug"));
}

TEST(Parser, AcceptsInputOfExactlyMaxBytes) {
  std::string input = "a=" + std::string(kMaxInputBytes - 2, 'x');
  ASSERT_EQ(input.size(), kMaxInputBytes);
  ParseResult r = Parse(input, "GORODEBUG");
  EXPECT_THAT(r.problems, IsEmpty());
  ASSERT_EQ(r.entries.size(), 1u);
  EXPECT_EQ(r.entries[0].value.size(), kMaxInputBytes - 2);
}

TEST(Parser, RejectsInputOneByteOverMaxWhole) {
  std::string input = "a=1,b=" + std::string(kMaxInputBytes - 5, 'x');
  ASSERT_EQ(input.size(), kMaxInputBytes + 1);
  ParseResult r = Parse(input, "GORODEBUG");
  EXPECT_THAT(r.entries, IsEmpty());
  EXPECT_THAT(Kinds(r), ElementsAre(ProblemKind::kInputTooLong));
  EXPECT_THAT(r.problems[0].message, HasSubstr(absl::StrCat(kMaxInputBytes + 1)));
  ExpectWellFormedMessages(r);
}

std::string ManyEntries(size_t n) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < n; ++i) parts.push_back(absl::StrCat("k", i, "=", i));
  return absl::StrJoin(parts, ",");
}

TEST(Parser, AcceptsExactlyMaxEntries) {
  const std::string input = ManyEntries(kMaxEntries);  // entries point into it
  ParseResult r = Parse(input, "GORODEBUG");
  EXPECT_THAT(r.problems, IsEmpty());
  EXPECT_EQ(r.entries.size(), kMaxEntries);
  EXPECT_EQ(r.entries.back().key, absl::StrCat("k", kMaxEntries - 1));
}

TEST(Parser, RejectsOneEntryOverMaxWhole) {
  ParseResult r = Parse(ManyEntries(kMaxEntries + 1), "GORODEBUG");
  EXPECT_THAT(r.entries, IsEmpty());
  EXPECT_THAT(Kinds(r), ElementsAre(ProblemKind::kTooManyEntries));
  ExpectWellFormedMessages(r);
}

TEST(Parser, RejectsTenThousandEntries) {
  std::string input = ManyEntries(10000);
  ASSERT_GT(input.size(), kMaxInputBytes);  // caught by the byte cap first
  ParseResult r = Parse(input, "GORODEBUG");
  EXPECT_THAT(r.entries, IsEmpty());
  ASSERT_EQ(r.problems.size(), 1u);

  // Ten thousand short entries that fit in the byte cap hit the entry cap.
  std::string shortish(10000 * 2 - 1, ',');
  for (size_t i = 0; i < shortish.size(); i += 2) shortish[i] = 'a';
  ParseResult r2 = Parse(shortish, "GORODEBUG");
  EXPECT_THAT(r2.entries, IsEmpty());
  EXPECT_THAT(Kinds(r2), ElementsAre(ProblemKind::kTooManyEntries));
}

TEST(Parser, RejectsMegabyteStringsWhole) {
  for (char fill : {'a', ',', '=', '\0', '\xff'}) {
    SCOPED_TRACE(int{static_cast<unsigned char>(fill)});
    std::string input(1 << 20, fill);
    ParseResult r = Parse(input, "GORODEBUG");
    EXPECT_THAT(r.entries, IsEmpty());
    EXPECT_THAT(Kinds(r), ElementsAre(ProblemKind::kInputTooLong));
    ExpectWellFormedMessages(r);
  }
}

TEST(Parser, KeepsMessagesShortForHugeEntries) {
  // One entry just under the cap, per kind of problem that quotes the entry or its key.
  const size_t n = kMaxInputBytes - 16;
  std::vector<std::string> inputs = {
      std::string(n, 'a'),                          // missing '='
      "=" + std::string(n, 'a'),                    // empty key
      std::string(n, 'A') + "=1",                   // bad key
      "a=" + std::string(n, 'b') + "=c",            // '=' in value
      std::string(n / 2, 'k') + "=1," + std::string(n / 2, 'k') + "=2",  // duplicate
      "k=" + std::string(n / 2, 'v') + ",k=" + std::string(n / 2, 'w'),  // duplicate values
  };
  for (const std::string& input : inputs) {
    ParseResult r = Parse(input, "GORODEBUG");
    ASSERT_FALSE(r.problems.empty());
    ExpectWellFormedMessages(r);
  }
}

TEST(Parser, EscapesNulAndControlBytesInMessages) {
  static const char kInput[] = "a\0b,c\n=1,d=\x01=\x7f";
  const std::string input(kInput, sizeof(kInput) - 1);
  ParseResult r = Parse(input, "GORODEBUG");
  ASSERT_EQ(r.problems.size(), 3u);
  ExpectWellFormedMessages(r);
  EXPECT_THAT(r.problems[0].message, HasSubstr("\\x00"));
  EXPECT_THAT(r.problems[1].message, HasSubstr("\\n"));
}

TEST(Parser, KeepsNulBytesInValues) {
  const std::string input("a=x\0y,b=1", 9);
  ParseResult r = Parse(input, "GORODEBUG");
  EXPECT_THAT(r.problems, IsEmpty());
  ASSERT_EQ(r.entries.size(), 2u);
  EXPECT_EQ(r.entries[0].value, absl::string_view("x\0y", 3));
}

TEST(Parser, HandlesUtf8AndInvalidUtf8) {
  // Non-ASCII keys are malformed; non-ASCII values are the value's business.
  ParseResult r = Parse("caf\xc3\xa9=1,name=\xe2\x9c\x93,x=\xff\xfe\xc3,\xc3=\xc3", "GORODEBUG");
  EXPECT_EQ(Entries(r), "name=\xe2\x9c\x93,x=\xff\xfe\xc3");
  EXPECT_THAT(Kinds(r), ElementsAre(ProblemKind::kBadKey, ProblemKind::kBadKey));
  ExpectWellFormedMessages(r);
  EXPECT_THAT(r.problems[0].message, HasSubstr("\\xc3\\xa9"));
}

TEST(Parser, HandlesEqualsInOddPlaces) {
  struct Case {
    const char* input;
    ProblemKind kind;
  };
  const Case cases[] = {
      {"=", ProblemKind::kEmptyKey},       {"==", ProblemKind::kEmptyKey},
      {"=a=b", ProblemKind::kEmptyKey},    {"a==", ProblemKind::kExtraEquals},
      {"a=,=", ProblemKind::kEmptyKey},    {"a=b=", ProblemKind::kExtraEquals},
      {",=,", ProblemKind::kEmptyKey},     {"a=b,=c", ProblemKind::kEmptyKey},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.input);
    ParseResult r = Parse(c.input, "GORODEBUG");
    bool found = false;
    for (const Problem& p : r.problems) found = found || p.kind == c.kind;
    EXPECT_TRUE(found);
    ExpectWellFormedMessages(r);
  }
}

TEST(Parser, NeverModifiesItsInput) {
  static const char kInput[] = "a=1,,B=2,c,d=e=f,a=9,help,=x,\xff=\x00y";
  const absl::string_view input(kInput, sizeof(kInput) - 1);
  const std::string before(input);
  ParseResult r = Parse(input, "GORODEBUG");
  EXPECT_FALSE(r.problems.empty());
  EXPECT_EQ(std::memcmp(kInput, before.data(), before.size()), 0);
  EXPECT_EQ(absl::string_view(kInput, sizeof(kInput) - 1), before);
}

TEST(Parser, IsValidKeyMatchesTheKeyPattern) {
  for (const char* good : {"a", "z", "a0", "a_b", "a.b", "gctrace", "a.", "a_", "abc.def_9"}) {
    EXPECT_TRUE(IsValidKey(good)) << good;
  }
  for (const char* bad : {"", "A", "0", "_", ".", "aB", "a-b", "a b", "a=b", "a,b", "\xc3\xa9"}) {
    EXPECT_FALSE(IsValidKey(bad)) << bad;
  }
  EXPECT_FALSE(IsValidKey(absl::string_view("a\0", 2)));
}

TEST(QuoteForMessage, EscapesAndQuotesShortInput) {
  EXPECT_EQ(QuoteForMessage("abc"), "\"abc\"");
  EXPECT_EQ(QuoteForMessage(""), "\"\"");
  EXPECT_EQ(QuoteForMessage(absl::string_view("\0\n\"", 3)), "\"\\x00\\n\\\"\"");
  EXPECT_EQ(QuoteForMessage("\xff"), "\"\\xff\"");
}

TEST(QuoteForMessage, CutsLongInputAndNotesLength) {
  std::string q = QuoteForMessage(std::string(1000, 'x'));
  EXPECT_THAT(q, HasSubstr("1000 bytes"));
  EXPECT_LT(q.size(), 100u);
  std::string worst = QuoteForMessage(std::string(100000, '\x01'));
  EXPECT_LT(worst.size(), 300u);
}

}  // namespace
}  // namespace goro::debugvars

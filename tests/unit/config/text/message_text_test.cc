#include "config/text/message_text.h"

#include <gtest/gtest.h>

#include <string>

namespace rivulet::config {
namespace {

TEST(Quote, EscapesAndCuts) {
  EXPECT_EQ(quote("1x"), "\"1x\"");
  EXPECT_EQ(quote(""), "\"\"");
  EXPECT_EQ(quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(quote("a\nb\tc"), "\"a\\nb\\tc\"");
  EXPECT_EQ(quote(std::string("a\x01", 2)), "\"a\\x01\"");
  EXPECT_EQ(quote(std::string(61, 'x')), "\"" + std::string(60, 'x') + "...\"");
  EXPECT_EQ(quote(std::string(60, 'x')), "\"" + std::string(60, 'x') + "\"");
}

TEST(Quote, DoesNotSplitUtf8) {
  // 59 ASCII bytes then "é" (2 bytes): the cut at 60 would fall inside it.
  const std::string text = std::string(59, 'x') + "\xC3\xA9" + "yyyy";
  EXPECT_EQ(quote(text), "\"" + std::string(59, 'x') + "...\"");
}

TEST(Join, Lists) {
  constexpr std::string_view kOne[] = {"a"};
  constexpr std::string_view kTwo[] = {"tcp", "udp"};
  constexpr std::string_view kThree[] = {"a", "b", "c"};
  EXPECT_EQ(joinAnd(kOne), "a");
  EXPECT_EQ(joinAnd(kTwo), "tcp and udp");
  EXPECT_EQ(joinAnd(kThree), "a, b and c");
  EXPECT_EQ(joinComma(kThree), "a, b, c");
}

TEST(EditDistance, Basics) {
  EXPECT_EQ(editDistance("", ""), 0u);
  EXPECT_EQ(editDistance("abc", ""), 3u);
  EXPECT_EQ(editDistance("", "abc"), 3u);
  EXPECT_EQ(editDistance("tumblng", "tumbling"), 1u);
  EXPECT_EQ(editDistance("agregates", "aggregates"), 1u);
  EXPECT_EQ(editDistance("kyes", "keys"), 1u);  // a transposition costs 1
  EXPECT_EQ(editDistance("kitten", "sitting"), 3u);
}

TEST(ClosestMatch, WithinTwoEdits) {
  constexpr std::string_view kKeys[] = {"from", "group_by", "window", "aggregates"};
  EXPECT_EQ(closestMatch("agregates", kKeys), "aggregates");
  EXPECT_EQ(closestMatch("form", kKeys), "from");
  EXPECT_EQ(closestMatch("windw", kKeys), "window");
  EXPECT_EQ(closestMatch("grp_by", kKeys), "group_by");
  EXPECT_EQ(closestMatch("where", kKeys), std::nullopt);
  EXPECT_EQ(closestMatch("aggregations", kKeys), std::nullopt);  // 3 edits
}

TEST(ClosestMatch, ShortWordsNeedACloseMatch) {
  constexpr std::string_view kFields[] = {"ts", "key", "value"};
  EXPECT_EQ(closestMatch("x", kFields), std::nullopt);
  EXPECT_EQ(closestMatch("ky", kFields), "key");
  EXPECT_EQ(closestMatch("tz", kFields), "ts");
}

TEST(ClosestMatch, PicksTheClosestThenTheFirst) {
  constexpr std::string_view kWords[] = {"abcd", "abce", "abc"};
  EXPECT_EQ(closestMatch("abc", kWords), "abc");
  EXPECT_EQ(closestMatch("abcf", kWords), "abcd");
}

TEST(Suggestion, DidYouMeanOrList) {
  constexpr std::string_view kUnits[] = {"s", "ms", "us", "ns"};
  EXPECT_EQ(suggestion("mss", kUnits, "expected one of"), " (did you mean \"ms\"?)");
  EXPECT_EQ(suggestion("minutes", kUnits, "expected one of"), " (expected one of: s, ms, us, ns)");
  EXPECT_EQ(suggestion("minutes", kUnits, ""), "");
}

}  // namespace
}  // namespace rivulet::config

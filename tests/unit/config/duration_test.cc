#include "config/duration.h"

#include <gtest/gtest.h>

#include <limits>

namespace rivulet::config {
namespace {

constexpr Nanos kMax = std::numeric_limits<Nanos>::max();

TEST(ParseDuration, EachUnit) {
  EXPECT_EQ(parseDuration("5ns"), 5);
  EXPECT_EQ(parseDuration("10us"), 10'000);
  EXPECT_EQ(parseDuration("500ms"), 500'000'000);
  EXPECT_EQ(parseDuration("2s"), 2'000'000'000);
  EXPECT_EQ(parseDuration("1m"), 60'000'000'000);
  EXPECT_EQ(parseDuration("1h"), 3'600'000'000'000);
  EXPECT_EQ(parseDuration("1d"), 86'400'000'000'000);
}

TEST(ParseDuration, ZeroAndLeadingZeros) {
  EXPECT_EQ(parseDuration("0s"), 0);
  EXPECT_EQ(parseDuration("0ns"), 0);
  EXPECT_EQ(parseDuration("007ms"), 7'000'000);
}

TEST(ParseDuration, RejectsJunk) {
  for (const char* text :
       {"",      "s",  "ms",  "1",    "10",   "1x",  "1 s",   " 1s",   "1s ", "-1s", "+1s", "1.5s",
        "1m30s", "1S", "1MS", "1sec", "1min", "1µs", "1e3ms", "0x10s", "s1",  "1ss", "1ns1"}) {
    EXPECT_EQ(parseDuration(text), std::nullopt) << '"' << text << '"';
  }
}

TEST(ParseDuration, LargestValues) {
  EXPECT_EQ(parseDuration("9223372036854775807ns"), kMax);
  EXPECT_EQ(parseDuration("9223372036854ms"), 9'223'372'036'854'000'000);
  EXPECT_EQ(parseDuration("106751d"), 106751 * 86'400'000'000'000);
}

TEST(ParseDuration, OverflowIsNullopt) {
  EXPECT_EQ(parseDuration("9223372036854775808ns"), std::nullopt);
  EXPECT_EQ(parseDuration("9223372036855ms"), std::nullopt);
  EXPECT_EQ(parseDuration("106752d"), std::nullopt);
  EXPECT_EQ(parseDuration("18446744073709551616s"), std::nullopt);  // beyond uint64 too
  EXPECT_EQ(parseDuration("99999999999999999999999999d"), std::nullopt);
}

TEST(FormatDuration, LargestExactUnit) {
  EXPECT_EQ(formatDuration(0), "0s");
  EXPECT_EQ(formatDuration(1), "1ns");
  EXPECT_EQ(formatDuration(1'500), "1500ns");
  EXPECT_EQ(formatDuration(10'000), "10us");
  EXPECT_EQ(formatDuration(500'000'000), "500ms");
  EXPECT_EQ(formatDuration(1'500'000'000), "1500ms");
  EXPECT_EQ(formatDuration(2'000'000'000), "2s");
  EXPECT_EQ(formatDuration(90'000'000'000), "90s");
  EXPECT_EQ(formatDuration(60'000'000'000), "1m");
  EXPECT_EQ(formatDuration(3'600'000'000'000), "1h");
  EXPECT_EQ(formatDuration(86'400'000'000'000), "1d");
  EXPECT_EQ(formatDuration(2 * 86'400'000'000'000 + 3'600'000'000'000), "49h");
  EXPECT_EQ(formatDuration(kMax), "9223372036854775807ns");
}

TEST(FormatDuration, Negative) {
  EXPECT_EQ(formatDuration(-60'000'000'000), "-1m");
  EXPECT_EQ(formatDuration(std::numeric_limits<Nanos>::min()), "-9223372036854775808ns");
}

TEST(FormatDuration, RoundTrips) {
  for (const Nanos value :
       {Nanos{0}, Nanos{1}, Nanos{999}, Nanos{1'000}, Nanos{123'000'000}, Nanos{60'000'000'000},
        Nanos{61'000'000'000}, Nanos{7 * 86'400'000'000'000}, kMax}) {
    EXPECT_EQ(parseDuration(formatDuration(value)), value) << value;
  }
  for (const char* text : {"0s", "1ns", "10us", "500ms", "2s", "1m", "1h", "1d", "1500ms"}) {
    EXPECT_EQ(formatDuration(*parseDuration(text)), text);
  }
}

}  // namespace
}  // namespace rivulet::config

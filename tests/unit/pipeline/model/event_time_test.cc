#include "pipeline/model/event_time.h"

#include <gtest/gtest.h>
#include <time.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <regex>
#include <string>

#include "config/expression/field_value.h"
#include "pipeline/event_router.h"
#include "tests/unit/pipeline/allocation_counter.h"

namespace rivulet::pipeline {
namespace {

// Wide enough for any date the reference parses, in nanoseconds (a GCC extension).
__extension__ typedef __int128 Wide;

constexpr std::int64_t kSecond = 1'000'000'000;

std::optional<std::int64_t> parse(std::string_view text) {
  std::int64_t nanos = 0;
  if (!parseIso8601(text, nanos)) return std::nullopt;
  return nanos;
}

// An independent reading of the same grammar: a regular expression for the syntax, glibc's
// timegm/gmtime_r for the calendar, 128-bit arithmetic for the range.
std::optional<std::int64_t> reference(const std::string& text) {
  static const std::regex kSyntax(
      R"(^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|([+-])(\d{2}):?(\d{2}))$)");
  std::smatch m;
  if (!std::regex_match(text, m, kSyntax)) return std::nullopt;
  const int year = std::stoi(m[1]), month = std::stoi(m[2]), day = std::stoi(m[3]);
  const int hour = std::stoi(m[4]), minute = std::stoi(m[5]), second = std::stoi(m[6]);
  if (year < 1 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60)
    return std::nullopt;
  tm date{};
  date.tm_year = year - 1900;
  date.tm_mon = month - 1;
  date.tm_mday = day;
  // A day that does not exist is normalised into the next month: it does not read back.
  const time_t midnight = timegm(&date);
  tm back{};
  gmtime_r(&midnight, &back);
  if (back.tm_year != year - 1900 || back.tm_mon != month - 1 || back.tm_mday != day)
    return std::nullopt;
  date = tm{};
  date.tm_year = year - 1900;
  date.tm_mon = month - 1;
  date.tm_mday = day;
  date.tm_hour = hour;
  date.tm_min = minute;
  date.tm_sec = second;  // 60 is normalised into the next minute
  Wide seconds = timegm(&date);
  if (m[9].matched) {
    const int offset_hours = std::stoi(m[10]), offset_minutes = std::stoi(m[11]);
    if (offset_hours > 23 || offset_minutes > 59) return std::nullopt;
    const int offset = offset_hours * 3600 + offset_minutes * 60;
    seconds -= m[9] == "-" ? -offset : offset;
  }
  Wide fraction = 0;
  if (m[7].matched) {
    std::string digits = m[7].str().substr(1);
    digits.resize(9, '0');
    fraction = std::stoll(digits);
  }
  const Wide nanos = seconds * kSecond + fraction;
  if (nanos < std::numeric_limits<std::int64_t>::min() ||
      nanos > std::numeric_limits<std::int64_t>::max())
    return std::nullopt;
  return static_cast<std::int64_t>(nanos);
}

std::string twoDigits(int v) { return (v < 10 ? "0" : "") + std::to_string(v); }

// Random timestamps, mostly well formed, with every field sometimes just out of range.
std::string randomTimestamp(std::mt19937_64& rng) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const bool wide = pick(0, 9) == 0;
  const int year = wide ? pick(1, 9999) : pick(1678, 2261);
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "%04d", year);
  std::string text = buffer;
  text += "-" + twoDigits(pick(0, 9) == 0 ? pick(0, 13) : pick(1, 12));
  text += "-" + twoDigits(pick(0, 9) == 0 ? pick(0, 32) : pick(1, 31));
  text += "Tt x"[pick(0, 9) == 0 ? pick(1, 3) : 0];
  text += twoDigits(pick(0, 24)) + ":" + twoDigits(pick(0, 60)) + ":" + twoDigits(pick(0, 61));
  const int fraction_digits = pick(-3, 10);  // negative: no fraction
  if (fraction_digits >= 0) {
    text += '.';
    for (int i = 0; i < fraction_digits; ++i) text += static_cast<char>('0' + pick(0, 9));
  }
  switch (pick(0, 7)) {
    case 0:
      break;  // no zone: refused
    case 1:
      text += 'z';
      break;
    case 2:
    case 3:
      text += 'Z';
      break;
    case 4:
      text += "+-"[pick(0, 1)] + twoDigits(pick(0, 24)) + twoDigits(pick(0, 60));
      break;
    case 5:
      text += "+-"[pick(0, 1)] + twoDigits(pick(0, 14));
      break;
    default:
      text += "+-"[pick(0, 1)] + twoDigits(pick(0, 24)) + ":" + twoDigits(pick(0, 60));
  }
  return text;
}

TEST(ParseIso8601, ReadsTheInstantTheTextNames) {
  const std::int64_t base = 1'796'582'467 * kSecond;  // date -u -d 2026-12-06T18:41:07Z +%s
  EXPECT_EQ(parse("2026-12-06T18:41:07Z"), base);
  EXPECT_EQ(parse("2026-12-06T18:41:07.123Z"), base + 123'000'000);
  EXPECT_EQ(parse("2026-12-06T18:41:07.1z"), base + 100'000'000);
  EXPECT_EQ(parse("2026-12-06t18:41:07.000000001Z"), base + 1);
  EXPECT_EQ(parse("2026-12-06 18:41:07.123456789Z"), base + 123'456'789);
  EXPECT_EQ(parse("2026-12-06T19:41:07.123+01:00"), base + 123'000'000);
  EXPECT_EQ(parse("2026-12-06T19:41:07.123+0100"), base + 123'000'000);
  EXPECT_EQ(parse("2026-12-06T13:11:07-05:30"), base);
  EXPECT_EQ(parse("2026-12-07T00:11:07+05:30"), base);
  EXPECT_EQ(parse("2026-12-06T18:41:07-00:00"), base);
  EXPECT_EQ(parse("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse("1969-12-31T23:59:59.5Z"), -kSecond / 2);
}

TEST(ParseIso8601, KnowsTheLeapYearsAndTheLeapSecond) {
  EXPECT_TRUE(parse("2024-02-29T00:00:00Z"));
  EXPECT_TRUE(parse("2000-02-29T00:00:00Z"));  // divisible by 400
  EXPECT_FALSE(parse("2023-02-29T00:00:00Z"));
  EXPECT_FALSE(parse("1900-02-29T00:00:00Z"));  // divisible by 100
  EXPECT_FALSE(parse("2100-02-29T00:00:00Z"));
  EXPECT_FALSE(parse("2026-04-31T00:00:00Z"));
  EXPECT_FALSE(parse("2026-12-32T00:00:00Z"));
  EXPECT_EQ(*parse("2025-03-01T00:00:00Z") - *parse("2025-02-28T00:00:00Z"), 86400 * kSecond);
  EXPECT_EQ(*parse("2024-03-01T00:00:00Z") - *parse("2024-02-28T00:00:00Z"), 2 * 86400 * kSecond);
  // A leap second is the first second of the next minute, as in POSIX time.
  EXPECT_EQ(parse("2016-12-31T23:59:60Z"), parse("2017-01-01T00:00:00Z"));
  EXPECT_EQ(parse("2016-12-31T23:59:60.5Z"), parse("2017-01-01T00:00:00.5Z"));
  EXPECT_FALSE(parse("2016-12-31T23:59:61Z"));
}

TEST(ParseIso8601, RefusesWhatIsNotATimestampWithAZone) {
  for (const char* bad : {
           "",
           "2026-12-06T18:41:07",              // no zone: local time of an unknown place
           "2026-12-06T18:41:07.123",          // idem
           "2026-12-06",                       // a date alone
           "2026-12-06T18:41Z",                // no seconds
           "2026-12-06T18:41:07.Z",            // a point without digits
           "2026-12-06T18:41:07.1234567891Z",  // more than nanoseconds
           "2026-12-06T18:41:07+01",           // offset without minutes
           "2026-12-06T18:41:07+1:00",         // one-digit hour
           "2026-12-06T18:41:07+01:0",         // one-digit minute
           "2026-12-06T18:41:07+01:000",       // one digit too many
           "2026-12-06T18:41:07+24:00",        // offset out of range
           "2026-12-06T18:41:07+01:60",
           "2026-12-06T18:41:07 Z",  // inner blank
           " 2026-12-06T18:41:07Z",  // outer blanks
           "2026-12-06T18:41:07Z ",
           "2026-12-06T18:41:07ZZ",
           "2026-12-06_18:41:07Z",  // other separator
           "2026/12/06T18:41:07Z",
           "2026-12-06T24:00:00Z",  // hour 24
           "2026-12-06T18:60:00Z",
           "2026-00-06T18:41:07Z",
           "2026-13-06T18:41:07Z",
           "2026-12-00T18:41:07Z",
           "+2026-12-06T18:41:07Z",  // expanded years
           "20261-12-06T18:41:07Z",
           "2026-1-06T18:41:07Z",
           "2026-12-06T18:41:07.12a3Z",
           "0000-01-01T00:00:00Z",  // no year 0 in this calendar, and far out of range anyway
       }) {
    EXPECT_FALSE(parse(bad)) << '"' << bad << '"';
  }
}

TEST(ParseIso8601, ReachesExactlyTheEndsOfInt64Nanoseconds) {
  EXPECT_EQ(parse("2262-04-11T23:47:16.854775807Z"), std::numeric_limits<std::int64_t>::max());
  EXPECT_FALSE(parse("2262-04-11T23:47:16.854775808Z"));
  EXPECT_EQ(parse("1677-09-21T00:12:43.145224192Z"), std::numeric_limits<std::int64_t>::min());
  EXPECT_FALSE(parse("1677-09-21T00:12:43.145224191Z"));
  // The offset can carry an instant over either end.
  EXPECT_FALSE(parse("2262-04-11T23:47:16.854775807-00:01"));
  EXPECT_TRUE(parse("2262-04-12T00:46:16.854775807+01:00"));
  EXPECT_FALSE(parse("9999-12-31T23:59:59Z"));
  EXPECT_FALSE(parse("0001-01-01T00:00:00Z"));
}

// The brute-force check: every instant from 1970 to 2200, at random offsets and precisions,
// reads as timegm says.
TEST(ParseIso8601, AgreesWithTimegmOnWellFormedTimestamps) {
  std::mt19937_64 rng(20261206);
  std::uniform_int_distribution<std::int64_t> instant(0, 7'258'118'400 - 1);  // 1970..2200
  std::uniform_int_distribution<int> offset_minutes(-23 * 60 - 59, 23 * 60 + 59);
  std::uniform_int_distribution<int> nanos(0, 999'999'999);
  for (int i = 0; i < 200'000; ++i) {
    const time_t utc = static_cast<time_t>(instant(rng));
    const int offset = offset_minutes(rng);
    const time_t local = utc + offset * 60;
    tm t{};
    gmtime_r(&local, &t);
    const int ns = nanos(rng);
    char text[64];
    const int magnitude = offset < 0 ? -offset : offset;
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%09d%c%02d:%02d",
                  t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, ns,
                  offset < 0 ? '-' : '+', magnitude / 60, magnitude % 60);
    ASSERT_EQ(parse(text), static_cast<std::int64_t>(utc) * kSecond + ns) << text;
  }
}

// Random text near the grammar, and single-byte mutations of it: accepted exactly when the
// reference accepts, with the same instant.
TEST(ParseIso8601, AgreesWithAnIndependentReadingOnRandomText) {
  std::mt19937_64 rng(7);
  int accepted = 0;
  constexpr int kCases = 60'000;
  for (int i = 0; i < kCases; ++i) {
    std::string text = randomTimestamp(rng);
    if (i % 2 == 1 && !text.empty()) {
      const std::size_t at = std::uniform_int_distribution<std::size_t>(0, text.size() - 1)(rng);
      switch (rng() % 3) {
        case 0:
          text[at] = static_cast<char>(rng() % 256);
          break;
        case 1:
          text.erase(at, 1);
          break;
        default:
          text.insert(at, 1, "0:-+.Z 9"[rng() % 8]);
      }
    }
    const auto expected = reference(text);
    ASSERT_EQ(parse(text), expected) << '"' << text << '"';
    accepted += expected.has_value();
  }
  // Both sides of the property are exercised.
  EXPECT_GT(accepted, kCases / 10);
  EXPECT_LT(accepted, kCases * 9 / 10);
}

TEST(ParseIso8601, AllocatesNothing) {
  const std::string text = "2026-12-06T19:41:07.123+01:00";
  std::int64_t nanos = 0;
  std::uint64_t sum = 0;  // the results are used, so the loop is not optimised away
  const std::size_t before = testutil::allocations.load();
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(parseIso8601(text, nanos));
    sum += static_cast<std::uint64_t>(nanos);
  }
  EXPECT_EQ(testutil::allocations.load(), before);
  EXPECT_NE(sum, 0u);
}

config::FieldValue stringField(std::string_view text) {
  config::FieldValue f;
  f.type = config::FieldType::kString;
  f.text = text;
  return f;
}

TEST(ToNanos, Iso8601ReadsStringsAndRefusesNumbers) {
  std::int64_t nanos = 0;
  ASSERT_TRUE(toNanos(stringField("1970-01-01T00:00:01.5Z"), config::TimeUnit::kIso8601, nanos));
  EXPECT_EQ(nanos, kSecond + kSecond / 2);
  EXPECT_FALSE(toNanos(stringField("1970-01-01T00:00:01.5"), config::TimeUnit::kIso8601, nanos));
  config::FieldValue number;
  number.type = config::FieldType::kNumber;
  number.is_integer = true;
  number.integer = 1500;
  number.number = 1500;
  number.text = "1500";
  EXPECT_FALSE(toNanos(number, config::TimeUnit::kIso8601, nanos));
  // And a timestamp string is not a number of milliseconds.
  EXPECT_FALSE(toNanos(stringField("1970-01-01T00:00:01.5Z"), config::TimeUnit::kMillis, nanos));
}

}  // namespace
}  // namespace rivulet::pipeline

// numberText: the issue's examples and ECMAScript's layout at its boundaries, then a property over
// millions of random doubles: the text reads back (strtod) to the same double, is plain notation
// exactly in [1e-6, 1e21), integral values there print without a point, and no text with fewer
// significant digits reads back to the same double.
#include "pipeline/model/number_text.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ios>
#include <limits>
#include <random>
#include <string>
#include <utility>

#include "pipeline/model/json_writer.h"

namespace rivulet::pipeline {
namespace {

std::string textOf(double v) {
  char buf[kMaxNumberText];
  return std::string(numberText(v, buf));
}

TEST(NumberTextTest, IssueExamplesPrintAsUsersReadThem) {
  EXPECT_EQ(textOf(4.7e7), "47000000");
  EXPECT_EQ(textOf(1.7e9), "1700000000");
  EXPECT_EQ(textOf(1700000012), "1700000012");
  EXPECT_EQ(textOf(11.9), "11.9");
  EXPECT_EQ(textOf(29.1), "29.1");
}

TEST(NumberTextTest, EcmaScriptLayoutAtItsBoundaries) {
  const std::pair<double, const char*> cases[] = {
      {0.0, "0"},
      {-0.0, "0"},
      {1, "1"},
      {-1, "-1"},
      {0.25, "0.25"},
      {-187.3, "-187.3"},
      {0.1 + 0.2, "0.30000000000000004"},
      {1e-6, "0.000001"},
      {1.5e-6, "0.0000015"},
      {-1.2345678901234567e-6, "-0.0000012345678901234567"},
      {std::nextafter(1e-6, 0.0), "9.999999999999997e-7"},
      {std::nextafter(1e21, 0.0), "999999999999999900000"},
      {1e-7, "1e-7"},
      {1.5e-7, "1.5e-7"},
      {123e-20, "1.23e-18"},
      {1e15, "1000000000000000"},
      {9007199254740992.0, "9007199254740992"},
      {9007199254740994.0, "9007199254740994"},
      {1e20, "100000000000000000000"},
      {1.2345e20, "123450000000000000000"},
      {std::pow(2.0, 60), "1152921504606847000"},
      {999999999999999900000.0, "999999999999999900000"},
      {1e21, "1e+21"},
      {1.5e21, "1.5e+21"},
      {1e100, "1e+100"},
      {123456.789, "123456.789"},
      {std::numeric_limits<double>::max(), "1.7976931348623157e+308"},
      {-std::numeric_limits<double>::max(), "-1.7976931348623157e+308"},
      {std::numeric_limits<double>::min(), "2.2250738585072014e-308"},
      {std::numeric_limits<double>::denorm_min(), "5e-324"},
  };
  for (const auto& [value, text] : cases) EXPECT_EQ(textOf(value), text) << text;
}

TEST(NumberTextTest, NonFiniteIsNullAndJsonWriterUsesIt) {
  EXPECT_EQ(textOf(std::numeric_limits<double>::quiet_NaN()), "null");
  EXPECT_EQ(textOf(std::numeric_limits<double>::infinity()), "null");
  std::string out;
  JsonWriter json(out);
  json.number(4.7e7);
  json.raw(',');
  json.number(-std::numeric_limits<double>::infinity());
  json.raw(',');
  json.number(1e-7);
  EXPECT_EQ(out, "47000000,null,1e-7");
}

// The properties of one double's text; false with a message in `why`.
bool checkText(double value, const std::string& text, std::string& why) {
  why = text;
  char* end = nullptr;
  const double back = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) {
    why += ": not all read";
    return false;
  }
  // The same double; -0 reads back as 0, which equals it.
  if (back != value ||
      (value != 0 && std::bit_cast<std::uint64_t>(back) != std::bit_cast<std::uint64_t>(value))) {
    why += ": reads back as another double";
    return false;
  }
  const double magnitude = std::fabs(value);
  const bool plain = magnitude == 0 || (magnitude >= 1e-6 && magnitude < 1e21);
  const std::size_t e = text.find('e');
  if (plain != (e == std::string::npos)) {
    why += plain ? ": exponent in plain range" : ": plain outside [1e-6, 1e21)";
    return false;
  }
  const std::size_t sign = text[0] == '-' ? 1 : 0;
  const std::string mantissa = text.substr(sign, e == std::string::npos ? e : e - sign);
  const std::size_t point = mantissa.find('.');
  if (plain && value == std::trunc(value) && point != std::string::npos) {
    why += ": an integral value with a point";
    return false;
  }
  if (point != std::string::npos && mantissa.back() == '0') {
    why += ": a zero ends the fraction";
    return false;
  }
  if (value == 0) return text == "0";
  // The significant digits, k of them.
  std::string digits;
  for (const char c : mantissa) {
    if (c != '.') digits.push_back(c);
  }
  digits.erase(0, digits.find_first_not_of('0'));
  digits.erase(digits.find_last_not_of('0') + 1);
  const int k = static_cast<int>(digits.size());
  if (k > 17) {
    why += ": more than 17 significant digits";
    return false;
  }
  // Shortest: with one digit fewer, neither the decimal just below the value nor the one just
  // above it reads back as the value (any shorter text that did would round to one of the two).
  if (k > 1) {
    char nearest[64];
    std::snprintf(nearest, sizeof nearest, "%.*e", k - 2, magnitude);
    // nearest is d.ddd(k - 1 digits)eX: as an integer D times 10^scale.
    std::string d;
    const char* p = nearest;
    for (; *p != 'e'; ++p) {
      if (*p != '.') d.push_back(*p);
    }
    const long long scale = std::atoll(p + 1) - (k - 2);
    const long long at = std::atoll(d.c_str());
    for (long long candidate = at - 1; candidate <= at + 1; ++candidate) {
      const std::string shorter = std::to_string(candidate) + "e" + std::to_string(scale);
      if (candidate > 0 && std::strtod(shorter.c_str(), nullptr) == magnitude) {
        why += ": " + shorter + " has fewer digits and reads back too";
        return false;
      }
    }
  }
  return true;
}

TEST(NumberTextTest, RandomDoublesRoundTripInTheirLayoutAndAreShortest) {
  std::mt19937_64 rng(20240917);
  std::uniform_real_distribution<double> unit(0, 1);
  std::uniform_int_distribution<int> decade(-9, 23);
  std::uniform_int_distribution<int> shift(0, 62);
  std::uniform_int_distribution<int> digits(1, 15);
  std::size_t plain = 0;
  std::size_t exponential = 0;
  std::string why;
  constexpr int kValues = 1'000'000;
  for (int i = 0; i < kValues; ++i) {
    double v;
    switch (i % 5) {
      case 0:  // any finite bit pattern: every exponent, subnormals included
        do {
          v = std::bit_cast<double>(rng());
        } while (!std::isfinite(v));
        break;
      case 1:  // around the layout's boundaries, 1e-6 and 1e21, and between them
        v = (1 + 9 * unit(rng)) * std::pow(10.0, decade(rng));
        break;
      case 2:  // integers, exact and past 2^53
        v = static_cast<double>(rng() >> shift(rng));
        break;
      case 3: {  // short decimals, as producers write them: 187.23, 0.001, 4.7e7
        const auto mantissa =
            static_cast<long long>(rng() % static_cast<std::uint64_t>(std::pow(10.0, digits(rng))));
        const std::string text = std::to_string(mantissa) + "e" + std::to_string(decade(rng) - 8);
        v = std::strtod(text.c_str(), nullptr);
        break;
      }
      default:  // the neighbours of powers of ten
        v = std::nextafter(std::pow(10.0, decade(rng)), (rng() & 1) ? 0.0 : 1e300);
        break;
    }
    if (rng() & 1) v = -v;
    const std::string text = textOf(v);
    ASSERT_TRUE(checkText(v, text, why)) << why << " (value " << std::hexfloat << v << ")";
    (text.find('e') == std::string::npos ? plain : exponential) += 1;
  }
  // Both layouts were exercised.
  EXPECT_GT(plain, kValues / 4u);
  EXPECT_GT(exponential, kValues / 4u);
}

}  // namespace
}  // namespace rivulet::pipeline

#include "pipeline/model/number_text.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace rivulet::pipeline {

std::string_view numberText(double value, char (&out)[kMaxNumberText]) noexcept {
  if (!std::isfinite(value)) {
    std::memcpy(out, "null", 4);
    return {out, 4};
  }
  char* p = out;
  // Integers that are exact doubles (-0 converts to 0): their own digits are the shortest, and
  // printing an integer is cheaper. Computed group-by keys are mostly such, one per event.
  constexpr double kMaxExactInteger = 9007199254740992.0;  // 2^53
  if (std::fabs(value) <= kMaxExactInteger && value == std::trunc(value)) {
    p = std::to_chars(p, out + kMaxNumberText, static_cast<std::int64_t>(value)).ptr;
    return {out, static_cast<std::size_t>(p - out)};
  }
  if (value < 0) {
    *p++ = '-';
    value = -value;
  }
  // std::to_chars picks the digits (the shortest that round-trip, the closest of those) as
  // ECMAScript does; only their layout differs. Its scientific form is d[.ddd]e±XX.
  char scientific[kMaxNumberText];
  const char* const end =
      std::to_chars(scientific, scientific + kMaxNumberText, value, std::chars_format::scientific)
          .ptr;
  char digits[kMaxNumberText];
  int k = 0;
  const char* s = scientific;
  digits[k++] = *s++;
  if (*s == '.') {
    for (++s; *s != 'e'; ++s) digits[k++] = *s;
  }
  ++s;                 // 'e'
  if (*s == '+') ++s;  // from_chars takes a '-' but no '+'
  int exponent = 0;
  std::from_chars(s, end, exponent);
  // value = 0.d1...dk * 10^n, in the terms of ECMA-262's Number::toString.
  const int n = exponent + 1;
  const auto put = [&p](const char* from, int count) {
    std::memcpy(p, from, static_cast<std::size_t>(count));
    p += count;
  };
  const auto zeros = [&p](int count) {
    std::memset(p, '0', static_cast<std::size_t>(count));
    p += count;
  };
  if (k <= n && n <= 21) {
    put(digits, k);
    zeros(n - k);
  } else if (0 < n && n <= 21) {
    put(digits, n);
    *p++ = '.';
    put(digits + n, k - n);
  } else if (-6 < n && n <= 0) {
    put("0.", 2);
    zeros(-n);
    put(digits, k);
  } else {
    *p++ = digits[0];
    if (k > 1) {
      *p++ = '.';
      put(digits + 1, k - 1);
    }
    *p++ = 'e';
    *p++ = n - 1 < 0 ? '-' : '+';
    p = std::to_chars(p, out + kMaxNumberText, n - 1 < 0 ? 1 - n : n - 1).ptr;
  }
  return {out, static_cast<std::size_t>(p - out)};
}

}  // namespace rivulet::pipeline

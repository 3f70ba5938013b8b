#include "pipeline/model/event_time.h"

#include <cstddef>

namespace rivulet::pipeline {
namespace {

// Reads exactly `n` decimal digits starting at `at` (the caller checked there are that many).
bool readDigits(std::string_view text, std::size_t at, int n, int& value) noexcept {
  value = 0;
  for (int i = 0; i < n; ++i) {
    const unsigned digit = static_cast<unsigned char>(text[at + i]) - unsigned{'0'};
    if (digit > 9) return false;
    value = value * 10 + static_cast<int>(digit);
  }
  return true;
}

bool isLeapYear(int year) noexcept { return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0); }

int daysInMonth(int year, int month) noexcept {
  constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && isLeapYear(year) ? 29 : kDays[month - 1];
}

// Days from 1970-01-01 to a date of the proleptic Gregorian calendar, year >= 1. Years are counted
// from March so that the leap day comes last: month m (March = 0) then starts (153 m + 2) / 5 days
// into its year, the 31/30-day pattern from March to January being regular.
std::int64_t daysSinceEpoch(int year, int month, int day) noexcept {
  constexpr std::int64_t kDaysFromMarch0ToEpoch = 719468;  // 0000-03-01 .. 1970-01-01
  const std::int64_t y = year - (month <= 2 ? 1 : 0);
  const std::int64_t m = month <= 2 ? month + 9 : month - 3;
  return 365 * y + y / 4 - y / 100 + y / 400 + (153 * m + 2) / 5 + (day - 1) -
         kDaysFromMarch0ToEpoch;
}

// Reads the zone designator from `at` to the end: Z, or an offset +HH:MM / +HHMM (or -).
bool readOffset(std::string_view text, std::size_t at, std::int64_t& offset_seconds) noexcept {
  const std::size_t left = text.size() - at;
  if (left == 1 && (text[at] == 'Z' || text[at] == 'z')) {
    offset_seconds = 0;
    return true;
  }
  if (left < 5 || (text[at] != '+' && text[at] != '-')) return false;
  int hours = 0, minutes = 0;
  const bool colon = left == 6 && text[at + 3] == ':';
  if (!(colon || left == 5) || !readDigits(text, at + 1, 2, hours) ||
      !readDigits(text, at + (colon ? 4 : 3), 2, minutes) || hours > 23 || minutes > 59) {
    return false;
  }
  offset_seconds = (hours * 60 + minutes) * 60;
  if (text[at] == '-') offset_seconds = -offset_seconds;
  return true;
}

}  // namespace

bool parseIso8601(std::string_view text, std::int64_t& nanos) noexcept {
  // YYYY-MM-DDTHH:MM:SS is at fixed places; a zone designator must follow.
  constexpr std::size_t kSecondsEnd = 19;
  if (text.size() <= kSecondsEnd) return false;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  const char separator = text[10];
  if (!readDigits(text, 0, 4, year) || text[4] != '-' || !readDigits(text, 5, 2, month) ||
      text[7] != '-' || !readDigits(text, 8, 2, day) ||
      (separator != 'T' && separator != 't' && separator != ' ') ||
      !readDigits(text, 11, 2, hour) || text[13] != ':' || !readDigits(text, 14, 2, minute) ||
      text[16] != ':' || !readDigits(text, 17, 2, second)) {
    return false;
  }
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) ||
      hour > 23 || minute > 59 || second > 60) {
    return false;
  }

  std::size_t at = kSecondsEnd;
  std::int64_t fraction = 0;
  if (text[at] == '.') {
    int digits = 0;
    for (++at; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at) {
      if (++digits > 9) return false;
      fraction = fraction * 10 + (text[at] - '0');
    }
    if (digits == 0) return false;
    for (; digits < 9; ++digits) fraction *= 10;
  }
  std::int64_t offset_seconds = 0;
  if (at == text.size() || !readOffset(text, at, offset_seconds)) return false;

  // At most ~3.7e6 days either side of the epoch: the seconds cannot overflow, the nanoseconds can.
  std::int64_t seconds = daysSinceEpoch(year, month, day) * 86400 + hour * 3600 + minute * 60 +
                         second - offset_seconds;
  // Before the epoch the fraction is taken from the next second up, so that the earliest instants
  // (down to INT64_MIN) do not overflow on their way in.
  if (seconds < 0 && fraction > 0) {
    seconds += 1;
    fraction -= 1'000'000'000;
  }
  std::int64_t whole = 0, result = 0;
  if (__builtin_mul_overflow(seconds, std::int64_t{1'000'000'000}, &whole) ||
      __builtin_add_overflow(whole, fraction, &result)) {
    return false;
  }
  nanos = result;
  return true;
}

}  // namespace rivulet::pipeline

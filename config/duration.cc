#include "config/duration.h"

#include <charconv>
#include <cstdint>
#include <limits>

namespace rivulet::config {
namespace {

struct Unit {
  std::string_view suffix;
  std::uint64_t nanos;
};

// Largest first: formatDuration picks the first unit that divides the value.
constexpr Unit kUnits[] = {
    {"d", 86'400'000'000'000},
    {"h", 3'600'000'000'000},
    {"m", 60'000'000'000},
    {"s", 1'000'000'000},
    {"ms", 1'000'000},
    {"us", 1'000},
    {"ns", 1},
};

}  // namespace

std::optional<Nanos> parseDuration(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) return std::nullopt;
  const std::string_view suffix = text.substr(digits);
  for (const Unit& unit : kUnits) {
    if (suffix != unit.suffix) continue;
    std::uint64_t count = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + digits, count);
    if (ec != std::errc() || end != text.data() + digits) return std::nullopt;
    constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<Nanos>::max());
    if (count > kMax / unit.nanos) return std::nullopt;
    return static_cast<Nanos>(count * unit.nanos);
  }
  return std::nullopt;
}

std::string formatDuration(Nanos nanos) {
  if (nanos == 0) return "0s";
  // Work on the magnitude as unsigned so that the most negative value has one too.
  const std::uint64_t magnitude =
      nanos < 0 ? 0 - static_cast<std::uint64_t>(nanos) : static_cast<std::uint64_t>(nanos);
  const std::string sign = nanos < 0 ? "-" : "";
  for (const Unit& unit : kUnits) {
    if (magnitude % unit.nanos == 0) {
      return sign + std::to_string(magnitude / unit.nanos) + std::string(unit.suffix);
    }
  }
  return sign + std::to_string(magnitude) + "ns";  // not reached: every value divides by 1ns
}

}  // namespace rivulet::config

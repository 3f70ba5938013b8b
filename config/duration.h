// Durations as written in config files ("500ms", "2s", "1m") and back to text.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"

namespace rivulet::config {

// Parses a non-negative decimal integer immediately followed by one unit: ns, us, ms, s, m, h, d
// ("500ms", "10us", "0s"). No sign, spaces, fractions or compounds ("1m30s"); nullopt for anything
// else and for values that do not fit in int64 nanoseconds.
std::optional<Nanos> parseDuration(std::string_view text);

// The inverse of parseDuration: the value in the largest unit that divides it exactly
// (60000000000 -> "1m", 1500000000 -> "1500ms", 0 -> "0s"). Negative values get a leading '-'.
std::string formatDuration(Nanos nanos);

}  // namespace rivulet::config

// Event time written as text: RFC 3339 / ISO-8601 timestamps such as "2026-12-06T18:41:07.123Z",
// read into nanoseconds since the epoch on a source thread, once per event.
#pragma once

#include <cstdint>
#include <string_view>

namespace rivulet::pipeline {

// Reads `YYYY-MM-DD(T|t| )HH:MM:SS[.F](Z|z|+HH:MM|-HH:MM|+HHMM|-HHMM)`, F being 1 to 9 digits, into
// nanoseconds since 1970-01-01T00:00:00Z. Second 60 (a leap second) is the next minute's first
// second, as in POSIX time. False for anything else: no offset (local time of an unknown zone),
// a date that does not exist (02-30), fields out of range, and instants int64 nanoseconds cannot
// hold (before 1677-09-21 or after 2262-04-11). No allocation, locale or time zone database.
bool parseIso8601(std::string_view text, std::int64_t& nanos) noexcept;

}  // namespace rivulet::pipeline

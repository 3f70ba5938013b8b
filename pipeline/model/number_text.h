// The one text of a number, wherever rivulet prints one (result payloads, computed group-by
// keys): the shortest digits that read back as the same double, laid out as ECMAScript's
// Number::toString does. Integral values below 1e21 print as plain integers (1700000012, never
// 1.7e+09), others in plain notation (0.25, 0.000001) unless the magnitude is >= 1e21 or < 1e-6
// (1e+21, 1.5e-7); -0 prints as 0. JavaScript and Python read every such text back to the double
// it came from, and a value always has the same text.
#pragma once

#include <cstddef>
#include <string_view>

namespace rivulet::pipeline {

// Room for any finite double's text: the longest is 25 bytes ("-0.0000012345678901234567").
inline constexpr std::size_t kMaxNumberText = 32;

// Writes the text of `value` into `out` and returns it. JSON has no form for NaN or infinities:
// callers print them as null or refuse them, and this writes "null" for them.
std::string_view numberText(double value, char (&out)[kMaxNumberText]) noexcept;

}  // namespace rivulet::pipeline

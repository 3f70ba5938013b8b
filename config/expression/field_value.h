// FieldValue: one field of a parsed event, as a source hands it to the router. Views point into
// the parser's buffers and are valid until the source parses its next event.
#pragma once

#include <cstdint>
#include <string_view>

namespace rivulet::config {

enum class FieldType : std::uint8_t { kMissing, kNull, kNumber, kString, kBool, kOther };

// A source's field list names a nested field by its keys joined with this byte ("order" 0x1f
// "qty" for order.qty), so that a key may hold any other character, dots included.
inline constexpr char kFieldPathSeparator = '\x1f';

struct FieldValue {
  FieldType type = FieldType::kMissing;
  bool is_integer = false;  // kNumber: written without fraction or exponent, fits int64
  std::int64_t integer = 0;
  double number = 0;      // kNumber
  std::string_view text;  // kString: unescaped bytes; kNumber/kBool: the JSON token
};

}  // namespace rivulet::config

// Group-by keys. A key is encoded once, at the source, as a sequence of parts
// [type:1][size:2 little-endian][bytes]; the encoding is what is hashed, compared and stored.
// Keeping each part's JSON type lets results print {"shard":3} and {"symbol":"AAPL"} faithfully.
#pragma once

#include <charconv>
#include <cstdint>
#include <string_view>

#include "config/expression/field_value.h"
#include "pipeline/model/number_text.h"

namespace rivulet::pipeline {

enum class KeyPartType : char {
  kString = 's',  // bytes: the unescaped string
  kNumber = 'n',  // bytes: a field's JSON text as written by the producer (3 and 3.0 are two
                  // keys); an expression's value as canonicalNumber() writes it
  kBool = 'b',    // bytes: "true" or "false"
  kNull = 'z',    // bytes: "null"; only a join row's field (pipeline/model/plan.h), never a key
};

inline constexpr std::string_view kNullPartText = "null";

inline constexpr std::size_t kKeyPartHeader = 3;

// Iterates the parts of an encoded key.
class KeyParts {
 public:
  explicit KeyParts(std::string_view encoded) : rest_(encoded) {}

  bool next(KeyPartType& type, std::string_view& bytes) noexcept {
    if (rest_.size() < kKeyPartHeader) return false;
    type = static_cast<KeyPartType>(rest_[0]);
    const std::size_t size = static_cast<unsigned char>(rest_[1]) |
                             (static_cast<std::size_t>(static_cast<unsigned char>(rest_[2])) << 8);
    bytes = rest_.substr(kKeyPartHeader, size);
    rest_.remove_prefix(kKeyPartHeader + bytes.size());
    return true;
  }

 private:
  std::string_view rest_;
};

// Appends one part to `out` (any type with append(const char*, size_t)). Parts are at most
// 65535 bytes; callers enforce the (much smaller) key size limit first. Always inlined: the
// router calls it per event and key part, and GCC stops inlining it once the router's build loop
// grows (measured: +42 instructions per event on W1 as a call).
template <typename Out>
[[gnu::always_inline]] inline void appendKeyPart(Out& out, KeyPartType type,
                                                 std::string_view bytes) {
  const char header[kKeyPartHeader] = {static_cast<char>(type),
                                       static_cast<char>(bytes.size() & 0xff),
                                       static_cast<char>((bytes.size() >> 8) & 0xff)};
  out.append(header, kKeyPartHeader);
  out.append(bytes.data(), bytes.size());
}

// The one text of a finite number as a key: the same value always gives the same key bytes,
// and the same text as in a result's values (numberText(), pipeline/model/number_text.h): 18, never
// 18.0 or 1.8e1; -0 as 0; 0.25; 100000000000000000000 for 1e20. Returns the text, in `out`.
inline std::string_view canonicalNumber(double value, char (&out)[kMaxNumberText]) noexcept {
  return numberText(value, out);
}

// A key part as an expression or a router reads a field: its type, its text (a number keeps the
// producer's text, so 3 and 3.0 stay two keys downstream too), and a number's value.
inline config::FieldValue keyPartField(KeyPartType type, std::string_view bytes) noexcept {
  config::FieldValue f;
  f.text = bytes;
  switch (type) {
    case KeyPartType::kString:
      f.type = config::FieldType::kString;
      break;
    case KeyPartType::kBool:
      f.type = config::FieldType::kBool;
      break;
    case KeyPartType::kNull:
      f.type = config::FieldType::kNull;
      break;
    case KeyPartType::kNumber: {
      f.type = config::FieldType::kNumber;
      const char* end = bytes.data() + bytes.size();
      std::from_chars(bytes.data(), end, f.number);
      const auto parsed = std::from_chars(bytes.data(), end, f.integer);
      f.is_integer = parsed.ec == std::errc() && parsed.ptr == end;
      break;
    }
  }
  return f;
}

}  // namespace rivulet::pipeline

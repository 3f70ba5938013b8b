// JsonWriter: appends JSON tokens to a caller-owned std::string that keeps its capacity, so the
// steady state allocates nothing. Used for result payloads; numbers are written as numberText()
// (pipeline/model/number_text.h) lays them out.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include "pipeline/model/number_text.h"

namespace rivulet::pipeline {

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  void raw(std::string_view s) { out_.append(s); }
  void raw(char c) { out_.push_back(c); }

  void integer(std::int64_t v) {
    char buf[24];
    out_.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
  }

  // NaN and infinities have no JSON form: they are written as null.
  void number(double v) {
    char buf[kMaxNumberText];
    out_.append(numberText(v, buf));
  }

  void null() { out_.append("null"); }

  // A quoted, escaped JSON string from UTF-8 bytes (invalid UTF-8 is passed through unchanged;
  // sources only hand over strings that came out of a JSON parser).
  void string(std::string_view s) {
    out_.push_back('"');
    std::size_t run = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c >= 0x20 && c != '"' && c != '\\') continue;
      out_.append(s.data() + run, i - run);
      run = i + 1;
      switch (c) {
        case '"':
          out_.append("\\\"");
          break;
        case '\\':
          out_.append("\\\\");
          break;
        case '\n':
          out_.append("\\n");
          break;
        case '\r':
          out_.append("\\r");
          break;
        case '\t':
          out_.append("\\t");
          break;
        default: {
          static constexpr char kHex[] = "0123456789abcdef";
          const char esc[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
          out_.append(esc, sizeof esc);
        }
      }
    }
    out_.append(s.data() + run, s.size() - run);
    out_.push_back('"');
  }

 private:
  std::string& out_;
};

}  // namespace rivulet::pipeline

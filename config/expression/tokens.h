// The tokens of the expression language (config/expression/expression.h): the lexer its parser
// reads, and the character classes and message excerpts both use.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rivulet::config::expr {

enum class Tok : std::uint8_t {
  kEnd,
  kError,
  kName,
  kQuotedName,
  kNumber,
  kString,
  kLeftParen,
  kRightParen,
  kLeftBracket,
  kRightBracket,
  kComma,
  kDot,
  kPlus,
  kMinus,
  kStar,
  kSlash,
  kEqual,
  kNotEqual,
  kLess,
  kLessEqual,
  kGreater,
  kGreaterEqual,
};

struct Token {
  Tok kind = Tok::kEnd;
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
  std::string value;  // kString, kQuotedName: unescaped; kError: the message
  double number = 0;  // kNumber
};

// The tokens of `text`, ending with kEnd, or with kError at the first bad character: the parser
// reports a lexical error only when it reaches it, so an earlier syntax error is reported first.
std::vector<Token> tokenize(std::string_view text);

inline bool isBlank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
inline bool isDigit(char c) { return c >= '0' && c <= '9'; }
inline bool isNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
inline bool isNameChar(char c) { return isNameStart(c) || isDigit(c); }

// `text` cut after 40 bytes (not inside a UTF-8 sequence) and marked "...": source excerpts in
// messages.
std::string excerpt(std::string_view text);

}  // namespace rivulet::config::expr

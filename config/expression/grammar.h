// The expression language's vocabulary, shared by its parser, checker and printer: keywords, the
// function table, and the lexical rules for names and quoting (config/expression/expression.h
// gives the grammar).
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

#include "config/expression/expression.h"
#include "config/expression/tokens.h"

namespace rivulet::config::expr {

inline constexpr int kMaxDepth = 64;

// Longer texts are refused: offsets are 32-bit, and a config expression has no business being
// this long (the canonical printer is quadratic in the worst case).
inline constexpr std::size_t kMaxLength = 65536;

inline constexpr std::string_view kKeywords[] = {"and", "or",   "not",  "in",
                                                 "is",  "null", "true", "false"};

struct FunctionInfo {
  std::string_view name;
  ExprFunction function;
  std::size_t arity;
  ExprType argument;
  ExprType result;
};

inline constexpr FunctionInfo kFunctions[] = {
    {"abs", ExprFunction::kAbs, 1, ExprType::kNumber, ExprType::kNumber},
    {"floor", ExprFunction::kFloor, 1, ExprType::kNumber, ExprType::kNumber},
    {"ceil", ExprFunction::kCeil, 1, ExprType::kNumber, ExprType::kNumber},
    {"round", ExprFunction::kRound, 1, ExprType::kNumber, ExprType::kNumber},
    {"lower", ExprFunction::kLower, 1, ExprType::kString, ExprType::kString},
    {"upper", ExprFunction::kUpper, 1, ExprType::kString, ExprType::kString},
    {"len", ExprFunction::kLen, 1, ExprType::kString, ExprType::kNumber},
    {"min", ExprFunction::kMin, 2, ExprType::kNumber, ExprType::kNumber},
    {"max", ExprFunction::kMax, 2, ExprType::kNumber, ExprType::kNumber},
};
inline constexpr std::string_view kFunctionNames[] = {"abs",   "floor", "ceil", "round", "lower",
                                                      "upper", "len",   "min",  "max"};

inline char toLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

inline std::string lowerCase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = toLower(c);
  return out;
}

inline bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return toLower(x) == toLower(y);
         });
}

inline bool isKeywordText(std::string_view text) {
  return std::any_of(std::begin(kKeywords), std::end(kKeywords),
                     [&](std::string_view k) { return equalsIgnoringCase(text, k); });
}

inline bool isName(std::string_view text) {
  return !text.empty() && isNameStart(text.front()) &&
         std::all_of(text.begin(), text.end(), isNameChar);
}

inline std::string quoted(std::string_view text, char quote) {
  std::string out(1, quote);
  for (const char c : text) {
    out += c;
    if (c == quote) out += c;
  }
  out += quote;
  return out;
}

}  // namespace rivulet::config::expr

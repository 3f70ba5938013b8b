#include "config/expression/tokens.h"

#include <algorithm>
#include <charconv>
#include <system_error>

#include "config/text/message_text.h"

namespace rivulet::config::expr {
namespace {

constexpr std::size_t kMaxExcerpt = 40;

// The bytes of the character starting at `text[0]` (a whole UTF-8 sequence when it is one).
std::string_view characterAt(std::string_view text) {
  std::size_t size = 1;
  while (size < text.size() && size < 4 &&
         (static_cast<unsigned char>(text[size]) & 0xC0) == 0x80) {
    ++size;
  }
  return text.substr(0, size);
}

struct Symbol {
  std::string_view text;
  Tok kind;
};

// Two-character symbols first.
constexpr Symbol kSymbols[] = {
    {"==", Tok::kEqual},        {"!=", Tok::kNotEqual},    {"<=", Tok::kLessEqual},
    {">=", Tok::kGreaterEqual}, {"(", Tok::kLeftParen},    {")", Tok::kRightParen},
    {"[", Tok::kLeftBracket},   {"]", Tok::kRightBracket}, {",", Tok::kComma},
    {".", Tok::kDot},           {"+", Tok::kPlus},         {"-", Tok::kMinus},
    {"*", Tok::kStar},          {"/", Tok::kSlash},        {"<", Tok::kLess},
    {">", Tok::kGreater},
};

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  std::vector<Token> run() {
    while (true) {
      while (i_ < text_.size() && isBlank(text_[i_])) ++i_;
      if (i_ == text_.size()) {
        add(Tok::kEnd, i_);
        return std::move(tokens_);
      }
      const char c = text_[i_];
      const bool good = isNameStart(c)          ? name()
                        : isDigit(c)            ? number()
                        : c == '\'' || c == '`' ? quotedText(c)
                                                : symbol();
      if (!good) return std::move(tokens_);
    }
  }

 private:
  Token& add(Tok kind, std::size_t begin) {
    Token& token = tokens_.emplace_back();
    token.kind = kind;
    token.begin = static_cast<std::uint32_t>(begin);
    token.end = static_cast<std::uint32_t>(i_);
    return token;
  }
  bool fail(std::size_t at, std::string message) {
    i_ = at;
    add(Tok::kError, at).value = std::move(message);
    return false;
  }

  bool name() {
    const std::size_t begin = i_;
    while (i_ < text_.size() && isNameChar(text_[i_])) ++i_;
    add(Tok::kName, begin);
    return true;
  }

  // digits ["." digits] [("e" | "E") ["+" | "-"] digits], not followed by a name or a dot.
  bool number() {
    const std::size_t begin = i_;
    const std::size_t n = text_.size();
    bool good = true;
    const auto digits = [&] {
      if (i_ == n || !isDigit(text_[i_])) good = false;
      while (i_ < n && isDigit(text_[i_])) ++i_;
    };
    digits();
    if (i_ < n && text_[i_] == '.') {
      ++i_;
      digits();
    }
    if (good && i_ < n && (text_[i_] == 'e' || text_[i_] == 'E')) {
      ++i_;
      if (i_ < n && (text_[i_] == '+' || text_[i_] == '-')) ++i_;
      digits();
    }
    if (!good || (i_ < n && (isNameChar(text_[i_]) || text_[i_] == '.'))) {
      while (i_ < n && (isNameChar(text_[i_]) || text_[i_] == '.')) ++i_;
      return fail(begin, "malformed number " + quote(text_.substr(begin, i_ - begin)));
    }
    double value = 0;
    const auto [end, error] = std::from_chars(text_.data() + begin, text_.data() + i_, value);
    if (error != std::errc() || end != text_.data() + i_) {
      return fail(begin, "number " + excerpt(text_.substr(begin, i_ - begin)) + " is out of range");
    }
    add(Tok::kNumber, begin).number = value;
    return true;
  }

  // 'string' or `name`; the quote character is doubled inside.
  bool quotedText(char quote) {
    const std::size_t begin = i_;
    std::string value;
    ++i_;
    while (true) {
      if (i_ == text_.size()) {
        return fail(begin,
                    std::string(quote == '\'' ? "unterminated string " : "unterminated name ") +
                        excerpt(text_.substr(begin)));
      }
      if (text_[i_] == quote) {
        if (i_ + 1 < text_.size() && text_[i_ + 1] == quote) {
          value += quote;
          i_ += 2;
          continue;
        }
        ++i_;
        break;
      }
      value += text_[i_++];
    }
    if (quote == '`' && value.empty()) return fail(begin, "empty field name ``");
    add(quote == '\'' ? Tok::kString : Tok::kQuotedName, begin).value = std::move(value);
    return true;
  }

  bool symbol() {
    const std::size_t begin = i_;
    const std::string_view rest = text_.substr(i_);
    const auto known = std::find_if(std::begin(kSymbols), std::end(kSymbols),
                                    [&](const Symbol& s) { return rest.starts_with(s.text); });
    if (known != std::end(kSymbols)) {
      i_ += known->text.size();
      add(known->kind, begin);
      return true;
    }
    // Operators of other languages, with what to write instead.
    const char c = rest.front();
    const std::size_t doubled = rest.size() > 1 && rest[1] == c ? 2 : 1;
    switch (c) {
      case '=':
        return fail(begin, "unexpected \"=\" (did you mean \"==\"?)");
      case '!':
        return fail(begin, "unexpected \"!\" (use not)");
      case '&':
        return fail(begin, "unexpected " + quote(rest.substr(0, doubled)) + " (use and)");
      case '|':
        return fail(begin, "unexpected " + quote(rest.substr(0, doubled)) + " (use or)");
      case '"':
        return fail(begin, "unexpected \"\\\"\" (strings are in single quotes: 'text')");
      default:
        return fail(begin, "unexpected character " + quote(characterAt(rest)));
    }
  }

  const std::string_view text_;
  std::size_t i_ = 0;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> tokenize(std::string_view text) { return Lexer(text).run(); }

std::string excerpt(std::string_view text) {
  if (text.size() <= kMaxExcerpt) return std::string(text);
  std::size_t end = kMaxExcerpt;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end)) + "...";
}

}  // namespace rivulet::config::expr

#include "config/expression.h"

#include <algorithm>

#include "config/expression_tokens.h"
#include "config/message_text.h"

namespace rivulet::config {
namespace {

using expr::excerpt;
using expr::isNameChar;
using expr::isNameStart;
using expr::Tok;
using expr::Token;

// Deeper nesting (parentheses, call arguments, chains of prefix operators) is refused: the parser
// recurses once per level and must not run out of stack on hostile input.
constexpr int kMaxDepth = 64;

// Longer texts are refused: offsets are 32-bit, and a config expression has no business being
// this long (the canonical printer is quadratic in the worst case).
constexpr std::size_t kMaxLength = 65536;

constexpr std::string_view kKeywords[] = {"and", "or", "not", "in", "is", "null", "true", "false"};

struct FunctionInfo {
  std::string_view name;
  ExprFunction function;
  std::size_t arity;
  ExprType argument;
  ExprType result;
};

constexpr FunctionInfo kFunctions[] = {
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
constexpr std::string_view kFunctionNames[] = {"abs",   "floor", "ceil", "round", "lower",
                                               "upper", "len",   "min",  "max"};

char toLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowerCase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = toLower(c);
  return out;
}

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return toLower(x) == toLower(y);
         });
}

bool isKeywordText(std::string_view text) {
  return std::any_of(std::begin(kKeywords), std::end(kKeywords),
                     [&](std::string_view k) { return equalsIgnoringCase(text, k); });
}

bool isName(std::string_view text) {
  return !text.empty() && isNameStart(text.front()) &&
         std::all_of(text.begin(), text.end(), isNameChar);
}

std::string quoted(std::string_view text, char quote) {
  std::string out(1, quote);
  for (const char c : text) {
    out += c;
    if (c == quote) out += c;
  }
  out += quote;
  return out;
}

// ---- parsing ----

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text), tokens_(expr::tokenize(text)) {}

  // True when the whole text is one expression; else error() is the first syntax error.
  bool parse() {
    if (peek().kind == Tok::kEnd) {
      fail(0, "empty expression");
      return false;
    }
    if (parseOr() < 0) return false;
    const Token& t = peek();
    if (t.kind == Tok::kEnd) return true;
    if (t.kind == Tok::kRightParen) {
      fail(t.begin, "unmatched \")\"");
    } else {
      unexpected(t, "an operator or the end");
    }
    return false;
  }

  const ExprError& error() const { return error_; }
  std::vector<ExprNode> takeNodes() { return std::move(nodes_); }
  std::vector<FieldPath> takeFields() { return std::move(fields_); }

 private:
  // Counts one level of nesting for as long as it lives.
  class Level {
   public:
    explicit Level(int& depth) : depth_(depth) { ++depth_; }
    ~Level() { --depth_; }
    Level(const Level&) = delete;
    Level& operator=(const Level&) = delete;
    bool tooDeep() const { return depth_ > kMaxDepth; }

   private:
    int& depth_;
  };

  const Token& peek(std::size_t ahead = 0) const {
    return tokens_[std::min(position_ + ahead, tokens_.size() - 1)];
  }
  const Token& take() {
    const Token& t = peek();
    if (position_ + 1 < tokens_.size()) ++position_;
    return t;
  }
  std::string_view textOf(const Token& t) const { return text_.substr(t.begin, t.end - t.begin); }
  bool isKeyword(const Token& t, std::string_view keyword) const {
    return t.kind == Tok::kName && equalsIgnoringCase(textOf(t), keyword);
  }

  // Records the first syntax error; returns the "no node" index for the caller to pass up.
  int fail(std::uint32_t offset, std::string message) {
    if (error_.message.empty()) error_ = ExprError{offset, std::move(message)};
    return -1;
  }
  std::string describe(const Token& t) const {
    return t.kind == Tok::kEnd ? "the end" : quote(textOf(t));
  }
  // Fails on `t` where `expected` should be; a lexical error there is reported as itself.
  int unexpected(const Token& t, std::string_view expected) {
    if (t.kind == Tok::kError) return fail(t.begin, t.value);
    return fail(t.begin, "expected " + std::string(expected) + ", got " + describe(t));
  }
  bool tooDeep(const Level& level, const Token& t) {
    if (!level.tooDeep()) return false;
    fail(t.begin,
         "expression nested too deeply (more than " + std::to_string(kMaxDepth) + " levels)");
    return true;
  }

  int add(ExprNode node) {
    nodes_.push_back(std::move(node));
    return static_cast<int>(nodes_.size() - 1);
  }
  int operation(ExprOp op, std::uint32_t at, std::vector<std::uint32_t> args, std::uint32_t begin,
                std::uint32_t end) {
    ExprNode node;
    node.op = op;
    node.at = at;
    node.begin = begin;
    node.end = end;
    node.args = std::move(args);
    return add(std::move(node));
  }
  int binary(ExprOp op, std::uint32_t at, int left, int right) {
    return operation(op, at, {static_cast<std::uint32_t>(left), static_cast<std::uint32_t>(right)},
                     nodes_[left].begin, nodes_[right].end);
  }

  int parseOr() {
    int left = parseAnd();
    while (left >= 0 && isKeyword(peek(), "or")) {
      const std::uint32_t at = take().begin;
      const int right = parseAnd();
      if (right < 0) return -1;
      left = binary(ExprOp::kOr, at, left, right);
    }
    return left;
  }

  int parseAnd() {
    int left = parseNot();
    while (left >= 0 && isKeyword(peek(), "and")) {
      const std::uint32_t at = take().begin;
      const int right = parseNot();
      if (right < 0) return -1;
      left = binary(ExprOp::kAnd, at, left, right);
    }
    return left;
  }

  int parseNot() {
    if (!isKeyword(peek(), "not")) return parseCompare();
    const Token& t = take();
    const Level level(depth_);
    if (tooDeep(level, t)) return -1;
    const int operand = parseNot();
    if (operand < 0) return -1;
    return operation(ExprOp::kNot, t.begin, {static_cast<std::uint32_t>(operand)}, t.begin,
                     nodes_[operand].end);
  }

  int parseCompare() {
    int left = parseSum();
    while (left >= 0) {
      const Token& t = peek();
      ExprOp op;
      switch (t.kind) {
        case Tok::kEqual:
          op = ExprOp::kEqual;
          break;
        case Tok::kNotEqual:
          op = ExprOp::kNotEqual;
          break;
        case Tok::kLess:
          op = ExprOp::kLess;
          break;
        case Tok::kLessEqual:
          op = ExprOp::kLessEqual;
          break;
        case Tok::kGreater:
          op = ExprOp::kGreater;
          break;
        case Tok::kGreaterEqual:
          op = ExprOp::kGreaterEqual;
          break;
        default:
          if (isKeyword(t, "in")) {
            take();
            left = parseList(ExprOp::kIn, t.begin, left);
          } else if (isKeyword(t, "not")) {
            take();
            if (!isKeyword(peek(), "in")) return unexpected(peek(), "\"in\" after \"not\"");
            take();
            left = parseList(ExprOp::kNotIn, t.begin, left);
          } else if (isKeyword(t, "is")) {
            take();
            const bool negated = isKeyword(peek(), "not");
            if (negated) take();
            if (!isKeyword(peek(), "null")) {
              return unexpected(peek(), negated ? "null after \"is not\"" : "null after \"is\"");
            }
            const std::uint32_t end = take().end;
            left = operation(negated ? ExprOp::kIsNotNull : ExprOp::kIsNull, t.begin,
                             {static_cast<std::uint32_t>(left)}, nodes_[left].begin, end);
          } else {
            return left;
          }
          continue;
      }
      take();
      const int right = parseSum();
      if (right < 0) return -1;
      left = binary(op, t.begin, left, right);
    }
    return left;
  }

  // The "[...]" after `in` or `not in`.
  int parseList(ExprOp op, std::uint32_t at, int left) {
    if (peek().kind != Tok::kLeftBracket) {
      return unexpected(peek(),
                        op == ExprOp::kIn ? "\"[\" after \"in\"" : "\"[\" after \"not in\"");
    }
    take();
    std::vector<ExprLiteral> items;
    while (true) {
      const Token& t = peek();
      ExprLiteral item;
      item.begin = t.begin;
      if (t.kind == Tok::kMinus && peek(1).kind == Tok::kNumber) {
        take();
        const Token& number = take();
        item.type = ExprType::kNumber;
        item.number = -number.number;
        item.text = "-" + std::string(textOf(number));
        item.end = number.end;
      } else if (t.kind == Tok::kNumber || t.kind == Tok::kString || isKeyword(t, "true") ||
                 isKeyword(t, "false") || isKeyword(t, "null")) {
        item = literal(take());
      } else {
        return unexpected(t, "a literal (number, string, true or false)");
      }
      items.push_back(std::move(item));
      const Token& separator = take();
      if (separator.kind == Tok::kRightBracket) {
        const int node = operation(op, at, {static_cast<std::uint32_t>(left)}, nodes_[left].begin,
                                   separator.end);
        nodes_[node].list = std::move(items);
        return node;
      }
      if (separator.kind != Tok::kComma) return unexpected(separator, "\",\" or \"]\"");
    }
  }

  int parseSum() {
    int left = parseProduct();
    while (left >= 0 && (peek().kind == Tok::kPlus || peek().kind == Tok::kMinus)) {
      const Token& t = take();
      const int right = parseProduct();
      if (right < 0) return -1;
      left = binary(t.kind == Tok::kPlus ? ExprOp::kAdd : ExprOp::kSubtract, t.begin, left, right);
    }
    return left;
  }

  int parseProduct() {
    int left = parseUnary();
    while (left >= 0 && (peek().kind == Tok::kStar || peek().kind == Tok::kSlash)) {
      const Token& t = take();
      const int right = parseUnary();
      if (right < 0) return -1;
      left =
          binary(t.kind == Tok::kStar ? ExprOp::kMultiply : ExprOp::kDivide, t.begin, left, right);
    }
    return left;
  }

  int parseUnary() {
    if (peek().kind != Tok::kMinus) return parsePrimary();
    const Token& t = take();
    const Level level(depth_);
    if (tooDeep(level, t)) return -1;
    const int operand = parseUnary();
    if (operand < 0) return -1;
    return operation(ExprOp::kNegate, t.begin, {static_cast<std::uint32_t>(operand)}, t.begin,
                     nodes_[operand].end);
  }

  int parsePrimary() {
    const Token& t = peek();
    switch (t.kind) {
      case Tok::kNumber:
      case Tok::kString:
        return addLiteral(take());
      case Tok::kQuotedName:
        return parseField();
      case Tok::kName:
        if (isKeyword(t, "true") || isKeyword(t, "false") || isKeyword(t, "null")) {
          return addLiteral(take());
        }
        if (isKeywordText(textOf(t))) return unexpected(t, "a value");
        if (peek(1).kind == Tok::kLeftParen) return parseCall();
        return parseField();
      case Tok::kLeftParen: {
        take();
        const Level level(depth_);
        if (tooDeep(level, t)) return -1;
        const int inner = parseOr();
        if (inner < 0) return -1;
        if (peek().kind != Tok::kRightParen) {
          if (peek().kind == Tok::kError) return unexpected(peek(), "");
          return fail(peek().begin, "expected \")\" to close \"(\" at " + std::to_string(t.begin) +
                                        ", got " + describe(peek()));
        }
        nodes_[inner].begin = t.begin;
        nodes_[inner].end = take().end;
        return inner;
      }
      default:
        return unexpected(t, "a value");
    }
  }

  ExprLiteral literal(const Token& t) const {
    ExprLiteral l;
    l.begin = t.begin;
    l.end = t.end;
    if (t.kind == Tok::kNumber) {
      l.type = ExprType::kNumber;
      l.number = t.number;
      l.text = std::string(textOf(t));
    } else if (t.kind == Tok::kString) {
      l.type = ExprType::kString;
      l.text = t.value;
    } else if (isKeyword(t, "null")) {
      l.type = ExprType::kNull;
    } else {
      l.type = ExprType::kBool;
      l.boolean = isKeyword(t, "true");
    }
    return l;
  }

  int addLiteral(const Token& t) {
    ExprNode node;
    node.op = ExprOp::kLiteral;
    node.begin = node.at = t.begin;
    node.end = t.end;
    node.literal = literal(t);
    return add(std::move(node));
  }

  int parseCall() {
    const Token& name = take();
    take();  // "("
    const Level level(depth_);
    if (tooDeep(level, name)) return -1;
    std::vector<std::uint32_t> args;
    if (peek().kind != Tok::kRightParen) {
      while (true) {
        const int arg = parseOr();
        if (arg < 0) return -1;
        args.push_back(static_cast<std::uint32_t>(arg));
        if (peek().kind != Tok::kComma) break;
        take();
      }
    }
    if (peek().kind != Tok::kRightParen) return unexpected(peek(), "\",\" or \")\"");
    return operation(ExprOp::kCall, name.begin, std::move(args), name.begin, take().end);
  }

  int parseField() {
    FieldPath path;
    const std::uint32_t begin = peek().begin;
    std::uint32_t end = 0;
    while (true) {
      const Token& t = take();
      path.segments.push_back(t.kind == Tok::kQuotedName ? t.value : std::string(textOf(t)));
      end = t.end;
      if (peek().kind != Tok::kDot) break;
      take();
      if (peek().kind != Tok::kName && peek().kind != Tok::kQuotedName) {
        return unexpected(peek(), "a field name after \".\"");
      }
    }
    ExprNode node;
    node.op = ExprOp::kField;
    node.begin = node.at = begin;
    node.end = end;
    const auto known = std::find(fields_.begin(), fields_.end(), path);
    node.field = static_cast<std::uint32_t>(known - fields_.begin());
    if (known == fields_.end()) fields_.push_back(std::move(path));
    return add(std::move(node));
  }

  const std::string_view text_;
  const std::vector<Token> tokens_;
  std::size_t position_ = 0;
  int depth_ = 0;
  std::vector<ExprNode> nodes_;
  std::vector<FieldPath> fields_;
  ExprError error_;
};

// ---- static checks ----

std::string_view plural(ExprType type) {
  switch (type) {
    case ExprType::kNumber:
      return "numbers";
    case ExprType::kString:
      return "strings";
    case ExprType::kBool:
      return "bools";
    default:
      return "nulls";
  }
}

bool isKnown(ExprType type) { return type != ExprType::kAny && type != ExprType::kNull; }

// Sets each node's static type (children first) and collects every error.
class Checker {
 public:
  Checker(std::string_view text, std::vector<ExprNode>& nodes, std::span<const FieldPath> fields,
          const FieldTypes& types)
      : text_(text), nodes_(nodes), fields_(fields), types_(types) {}

  std::vector<ExprError> check() {
    for (ExprNode& node : nodes_) node.type = typeOf(node);
    std::stable_sort(errors_.begin(), errors_.end(),
                     [](const ExprError& a, const ExprError& b) { return a.offset < b.offset; });
    return std::move(errors_);
  }

 private:
  void error(std::uint32_t offset, std::string message) {
    errors_.push_back({offset, std::move(message)});
  }
  std::string source(std::uint32_t begin, std::uint32_t end) const {
    return excerpt(text_.substr(begin, end - begin));
  }
  // "string 'a'", "number len(s)", "null".
  std::string describe(const ExprNode& node) const {
    if (node.type == ExprType::kNull) return "null";
    return std::string(typeName(node.type)) + " " + source(node.begin, node.end);
  }

  // Reports `operand` unless it may be a `wanted` value; `who` prefixes the message.
  void expect(std::uint32_t operand, ExprType wanted, std::string_view who = "expected") {
    const ExprNode& node = nodes_[operand];
    if (isKnown(node.type) && node.type != wanted) {
      error(node.begin,
            std::string(who) + " a " + std::string(typeName(wanted)) + ", got " + describe(node));
    }
  }

  // Reports null literals compared with; true when there were none.
  bool noNullOperand(const ExprNode& node, std::uint32_t operand) {
    if (nodes_[operand].type != ExprType::kNull) return true;
    std::string message = "comparison with null is always null";
    if (node.op == ExprOp::kEqual || node.op == ExprOp::kIn) message += " (use \"is null\")";
    if (node.op == ExprOp::kNotEqual || node.op == ExprOp::kNotIn) {
      message += " (use \"is not null\")";
    }
    error(nodes_[operand].begin, std::move(message));
    return false;
  }

  void checkComparison(const ExprNode& node) {
    const bool ordering = node.op != ExprOp::kEqual && node.op != ExprOp::kNotEqual;
    bool good = true;
    for (const std::uint32_t operand : node.args) {
      good = noNullOperand(node, operand) && good;
      if (ordering && nodes_[operand].type == ExprType::kBool) {
        error(nodes_[operand].begin,
              "expected a number or a string, got " + describe(nodes_[operand]));
        good = false;
      }
    }
    const ExprNode& left = nodes_[node.args[0]];
    const ExprNode& right = nodes_[node.args[1]];
    if (good && isKnown(left.type) && isKnown(right.type) && left.type != right.type) {
      error(node.at, "cannot compare " + describe(left) + " with " + describe(right));
    }
  }

  void checkList(const ExprNode& node) {
    ExprType type = ExprType::kNull;
    for (const ExprLiteral& item : node.list) {
      if (item.type == ExprType::kNull) {
        error(item.begin, node.op == ExprOp::kIn
                              ? "null in a list never matches (use \"is null\")"
                              : "null in a list never matches (use \"is not null\")");
      } else if (type == ExprType::kNull) {
        type = item.type;
      } else if (item.type != type) {
        error(item.begin, "list items must all be " + std::string(plural(type)) + ", got " +
                              std::string(typeName(item.type)) + " " +
                              source(item.begin, item.end));
      }
    }
    const ExprNode& left = nodes_[node.args[0]];
    if (noNullOperand(node, node.args[0]) && isKnown(left.type) && isKnown(type) &&
        left.type != type) {
      error(node.at,
            "cannot compare " + describe(left) + " with a list of " + std::string(plural(type)));
    }
  }

  ExprType checkCall(ExprNode& node) {
    std::string_view name = text_.substr(node.at);
    name = name.substr(0, std::find_if_not(name.begin(), name.end(), isNameChar) - name.begin());
    const std::string lower = lowerCase(name);
    const auto info = std::find_if(std::begin(kFunctions), std::end(kFunctions),
                                   [&](const FunctionInfo& f) { return f.name == lower; });
    if (info == std::end(kFunctions)) {
      error(node.at,
            "unknown function " + quote(name) + suggestion(lower, kFunctionNames, "functions"));
      return ExprType::kAny;  // no further errors about a call nobody knows
    }
    node.function = info->function;
    if (node.args.size() != info->arity) {
      error(node.at, std::string(info->name) + "() takes " + std::to_string(info->arity) +
                         (info->arity == 1 ? " argument" : " arguments") + ", got " +
                         std::to_string(node.args.size()));
    } else {
      const std::string who = std::string(info->name) + "() expects";
      for (const std::uint32_t arg : node.args) expect(arg, info->argument, who);
    }
    return info->result;
  }

  ExprType typeOf(ExprNode& node) {
    switch (node.op) {
      case ExprOp::kLiteral:
        return node.literal.type;
      case ExprOp::kField:  // JSON is dynamically typed, unless the source declares it
        return types_ ? types_(fields_[node.field]) : ExprType::kAny;
      case ExprOp::kCall:
        return checkCall(node);
      case ExprOp::kNegate:
        expect(node.args[0], ExprType::kNumber);
        return ExprType::kNumber;
      case ExprOp::kNot:
        expect(node.args[0], ExprType::kBool);
        return ExprType::kBool;
      case ExprOp::kIsNull:
      case ExprOp::kIsNotNull:
        return ExprType::kBool;
      case ExprOp::kMultiply:
      case ExprOp::kDivide:
      case ExprOp::kAdd:
      case ExprOp::kSubtract:
        expect(node.args[0], ExprType::kNumber);
        expect(node.args[1], ExprType::kNumber);
        return ExprType::kNumber;
      case ExprOp::kEqual:
      case ExprOp::kNotEqual:
      case ExprOp::kLess:
      case ExprOp::kLessEqual:
      case ExprOp::kGreater:
      case ExprOp::kGreaterEqual:
        checkComparison(node);
        return ExprType::kBool;
      case ExprOp::kAnd:
      case ExprOp::kOr:
        expect(node.args[0], ExprType::kBool);
        expect(node.args[1], ExprType::kBool);
        return ExprType::kBool;
      case ExprOp::kIn:
      case ExprOp::kNotIn:
        checkList(node);
        return ExprType::kBool;
    }
    return ExprType::kAny;
  }

  const std::string_view text_;
  std::vector<ExprNode>& nodes_;
  const std::span<const FieldPath> fields_;
  const FieldTypes& types_;
  std::vector<ExprError> errors_;
};

// ---- printing ----

std::string_view symbolOf(ExprOp op) {
  switch (op) {
    case ExprOp::kMultiply:
      return "*";
    case ExprOp::kDivide:
      return "/";
    case ExprOp::kAdd:
      return "+";
    case ExprOp::kSubtract:
      return "-";
    case ExprOp::kEqual:
      return "==";
    case ExprOp::kNotEqual:
      return "!=";
    case ExprOp::kLess:
      return "<";
    case ExprOp::kLessEqual:
      return "<=";
    case ExprOp::kGreater:
      return ">";
    case ExprOp::kGreaterEqual:
      return ">=";
    case ExprOp::kAnd:
      return "and";
    case ExprOp::kOr:
      return "or";
    case ExprOp::kIn:
      return "in";
    case ExprOp::kNotIn:
      return "not in";
    default:
      return "?";
  }
}

std::string literalText(const ExprLiteral& literal) {
  switch (literal.type) {
    case ExprType::kNumber:
      return literal.text;
    case ExprType::kString:
      return quoted(literal.text, '\'');
    case ExprType::kBool:
      return literal.boolean ? "true" : "false";
    default:
      return "null";
  }
}

}  // namespace

std::string_view typeName(ExprType type) noexcept {
  switch (type) {
    case ExprType::kAny:
      return "any";
    case ExprType::kNull:
      return "null";
    case ExprType::kNumber:
      return "number";
    case ExprType::kString:
      return "string";
    case ExprType::kBool:
      return "bool";
  }
  return "?";
}

std::string_view functionName(ExprFunction function) noexcept {
  for (const FunctionInfo& f : kFunctions) {
    if (f.function == function) return f.name;
  }
  return "?";
}

std::string FieldPath::toString() const {
  std::string out;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out += '.';
    const std::string& s = segments[i];
    // After a dot a keyword is a plain name; only the first segment could read as one.
    out += isName(s) && (i > 0 || !isKeywordText(s)) ? s : quoted(s, '`');
  }
  return out;
}

Expression::Expression(std::string_view text, std::vector<ExprNode> nodes,
                       std::vector<FieldPath> fields)
    : text_(text), nodes_(std::move(nodes)), fields_(std::move(fields)) {}

namespace {

// How tightly an operator binds, loosest first: the grammar's levels.
enum Binding : int {
  kOrLevel = 1,
  kAndLevel,
  kNotLevel,
  kCompareLevel,
  kSumLevel,
  kProductLevel,
  kUnaryLevel,
  kPrimaryLevel
};

Binding bindingOf(ExprOp op) {
  switch (op) {
    case ExprOp::kLiteral:
    case ExprOp::kField:
    case ExprOp::kCall:
      return kPrimaryLevel;
    case ExprOp::kNegate:
      return kUnaryLevel;
    case ExprOp::kMultiply:
    case ExprOp::kDivide:
      return kProductLevel;
    case ExprOp::kAdd:
    case ExprOp::kSubtract:
      return kSumLevel;
    case ExprOp::kNot:
      return kNotLevel;
    case ExprOp::kAnd:
      return kAndLevel;
    case ExprOp::kOr:
      return kOrLevel;
    default:
      return kCompareLevel;
  }
}

}  // namespace

std::string Expression::toString() const {
  // Children come before parents, so one pass in order has every operand's text at hand. Each
  // node has one parent: its text is moved there, keeping memory linear in the output. An operand
  // is parenthesised only where the grammar needs it (binary operators associate to the left), so
  // the text nests no deeper than the one parsed and always parses again to the same tree.
  std::vector<std::string> out(nodes_.size());
  const auto operand = [&](const ExprNode& node, std::size_t k, Binding loosest) {
    std::string& text = out[node.args[k]];
    if (bindingOf(nodes_[node.args[k]].op) >= loosest) return std::move(text);
    return "(" + std::move(text) + ")";
  };
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const ExprNode& node = nodes_[i];
    const Binding level = bindingOf(node.op);
    switch (node.op) {
      case ExprOp::kLiteral:
        out[i] = literalText(node.literal);
        break;
      case ExprOp::kField:
        out[i] = fields_[node.field].toString();
        break;
      case ExprOp::kCall:
        out[i] = std::string(functionName(node.function)) + "(";
        for (std::size_t k = 0; k < node.args.size(); ++k) {
          if (k > 0) out[i] += ", ";
          out[i] += operand(node, k, kOrLevel);
        }
        out[i] += ")";
        break;
      case ExprOp::kNegate:
        out[i] = "-" + operand(node, 0, kUnaryLevel);
        break;
      case ExprOp::kNot:
        out[i] = "not " + operand(node, 0, kNotLevel);
        break;
      case ExprOp::kIsNull:
        out[i] = operand(node, 0, kCompareLevel) + " is null";
        break;
      case ExprOp::kIsNotNull:
        out[i] = operand(node, 0, kCompareLevel) + " is not null";
        break;
      case ExprOp::kIn:
      case ExprOp::kNotIn:
        out[i] = operand(node, 0, kCompareLevel) + " " + std::string(symbolOf(node.op)) + " [";
        for (std::size_t k = 0; k < node.list.size(); ++k) {
          if (k > 0) out[i] += ", ";
          out[i] += literalText(node.list[k]);
        }
        out[i] += "]";
        break;
      default:
        out[i] = operand(node, 0, level) + " " + std::string(symbolOf(node.op)) + " " +
                 operand(node, 1, static_cast<Binding>(level + 1));
    }
  }
  return out.back();
}

ExpressionResult parseExpression(std::string_view text, const FieldTypes& types) {
  ExpressionResult result;
  if (text.size() > kMaxLength) {
    result.errors.push_back({0, "expression longer than " + std::to_string(kMaxLength) + " bytes"});
    return result;
  }
  Parser parser(text);
  if (!parser.parse()) {
    result.errors.push_back(parser.error());
    return result;
  }
  std::vector<ExprNode> nodes = parser.takeNodes();
  std::vector<FieldPath> fields = parser.takeFields();
  result.errors = Checker(text, nodes, fields, types).check();
  if (result.errors.empty())
    result.expression = Expression(text, std::move(nodes), std::move(fields));
  return result;
}

std::optional<ExprError> checkResultType(const Expression& expression, ExprType wanted) {
  const ExprNode& root = expression.root();
  const std::string_view text = expression.text();
  if (root.type == ExprType::kNull) {
    return ExprError{root.begin,
                     wanted == ExprType::kAny || wanted == ExprType::kNull
                         ? "the expression is always null"
                         : "expected a " + std::string(typeName(wanted)) + ", got null"};
  }
  if (wanted == ExprType::kAny || wanted == ExprType::kNull || root.type == ExprType::kAny ||
      root.type == wanted) {
    return std::nullopt;
  }
  return ExprError{root.begin, "expected a " + std::string(typeName(wanted)) + ", got " +
                                   std::string(typeName(root.type)) + " " +
                                   excerpt(text.substr(root.begin, root.end - root.begin))};
}

}  // namespace rivulet::config

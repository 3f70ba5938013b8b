// The parser: text to a tree of nodes (config/expression/expression.h gives the grammar).
#include <algorithm>

#include "config/expression/checker.h"
#include "config/expression/expression.h"
#include "config/expression/grammar.h"
#include "config/expression/tokens.h"
#include "config/text/message_text.h"

namespace rivulet::config {
namespace {

using expr::equalsIgnoringCase;
using expr::isKeywordText;
using expr::kMaxDepth;
using expr::kMaxLength;
using expr::Tok;
using expr::Token;

class Parser {
 public:
  Parser(std::string_view text, const AggregateNames& aggregates)
      : text_(text), tokens_(expr::tokenize(text)), aggregates_(aggregates) {}

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
        if (peek(1).kind == Tok::kLeftParen) {
          return isAggregateCall() ? parseAggregateCall() : parseCall();
        }
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

  // At a call (name, "("): whether it is an aggregate's, read as the aggregate's value. min and
  // max are both: with one argument the aggregate, with more the function of their arguments.
  bool isAggregateCall() const {
    const std::string name = expr::lowerCase(textOf(peek()));
    if (!aggregates_ || !aggregates_(name)) return false;
    if (name != "min" && name != "max") return true;
    int depth = 0;
    for (std::size_t ahead = 1;; ++ahead) {
      const Token& t = peek(ahead);
      if (t.kind == Tok::kEnd || t.kind == Tok::kError) return true;
      if (t.kind == Tok::kLeftParen || t.kind == Tok::kLeftBracket) ++depth;
      if (t.kind == Tok::kRightParen || t.kind == Tok::kRightBracket) --depth;
      if (depth == 0) return true;
      if (depth == 1 && t.kind == Tok::kComma) return false;
    }
  }

  // An aggregate call, up to its matching ")": a field named by the call's text, which the
  // caller checks as an aggregate (config/aggregate_expr.h).
  int parseAggregateCall() {
    const Token& name = take();
    int depth = 0;
    std::uint32_t end = name.end;
    while (true) {
      const Token& t = take();
      if (t.kind == Tok::kError) return unexpected(t, "");
      if (t.kind == Tok::kEnd) {
        return fail(t.begin, "expected \")\" to close \"(\" at " + std::to_string(name.end));
      }
      if (t.kind == Tok::kLeftParen || t.kind == Tok::kLeftBracket) ++depth;
      if (t.kind == Tok::kRightParen || t.kind == Tok::kRightBracket) --depth;
      end = t.end;
      if (depth == 0) break;
    }
    return addField(FieldPath{{std::string(text_.substr(name.begin, end - name.begin))}},
                    name.begin, end);
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
    return addField(std::move(path), begin, end);
  }

  int addField(FieldPath path, std::uint32_t begin, std::uint32_t end) {
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
  const AggregateNames& aggregates_;
  std::size_t position_ = 0;
  int depth_ = 0;
  std::vector<ExprNode> nodes_;
  std::vector<FieldPath> fields_;
  ExprError error_;
};

}  // namespace

Expression Expression::renamed(const std::function<FieldPath(const FieldPath&)>& rename) const {
  std::vector<FieldPath> fields;
  for (const FieldPath& field : fields_) fields.push_back(rename(field));
  return Expression(text_, nodes_, std::move(fields));
}

Expression::Expression(std::string_view text, std::vector<ExprNode> nodes,
                       std::vector<FieldPath> fields)
    : text_(text), nodes_(std::move(nodes)), fields_(std::move(fields)) {}

ExpressionResult parseExpression(std::string_view text, const FieldTypes& types) {
  return parseResultExpression(text, types, {});
}

ExpressionResult parseResultExpression(std::string_view text, const FieldTypes& types,
                                       const AggregateNames& aggregates) {
  ExpressionResult result;
  if (text.size() > kMaxLength) {
    result.errors.push_back({0, "expression longer than " + std::to_string(kMaxLength) + " bytes"});
    return result;
  }
  Parser parser(text, aggregates);
  if (!parser.parse()) {
    result.errors.push_back(parser.error());
    return result;
  }
  std::vector<ExprNode> nodes = parser.takeNodes();
  std::vector<FieldPath> fields = parser.takeFields();
  result.errors = expr::checkTypes(text, nodes, fields, types);
  if (result.errors.empty())
    result.expression = Expression(text, std::move(nodes), std::move(fields));
  return result;
}

}  // namespace rivulet::config

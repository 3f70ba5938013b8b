// Expressions as users write them in a pipeline (`where: "side == 'buy' and qty >= 100"`, aggregate
// arguments like `sum(price * qty)`, group-by expressions like `floor(price / 10)`): the parser
// from text to a typed AST and the static checks that reject what can never work. Evaluation over
// events is config/expression/program.h.
// The details, precisely: docs/architecture.md, "The expression language".
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rivulet::config {

enum class ExprType : std::uint8_t {
  kAny,   // a field, whose JSON type is only known per event
  kNull,  // the literal null
  kNumber,
  kString,
  kBool,
};

// "any", "null", "number", "string", "bool".
std::string_view typeName(ExprType type) noexcept;

enum class ExprOp : std::uint8_t {
  kLiteral,
  kField,
  kCall,
  kNegate,  // unary -
  kNot,
  kIsNull,
  kIsNotNull,
  kMultiply,
  kDivide,
  kAdd,
  kSubtract,
  kEqual,
  kNotEqual,
  kLess,
  kLessEqual,
  kGreater,
  kGreaterEqual,
  kAnd,
  kOr,
  kIn,
  kNotIn,
};

enum class ExprFunction : std::uint8_t {
  kAbs,
  kFloor,
  kCeil,
  kRound,
  kLower,
  kUpper,
  kLen,
  kMin,
  kMax
};

// "abs", "floor", ...
std::string_view functionName(ExprFunction function) noexcept;

struct ExprLiteral {
  ExprType type = ExprType::kNull;  // kNull, kNumber, kString or kBool
  double number = 0;                // kNumber
  bool boolean = false;             // kBool
  std::string text;                 // kString: the value, unescaped; kNumber: as written
  std::uint32_t begin = 0;          // where it is written: bytes [begin, end) of the text
  std::uint32_t end = 0;
};

// A field, top-level or nested: {"order", "qty"} is order.qty.
struct FieldPath {
  std::vector<std::string> segments;

  // Dotted, each segment backquoted when it must be: order.qty, `odd name`.x, `null`.
  std::string toString() const;
  bool operator==(const FieldPath&) const = default;
};

struct ExprNode {
  ExprOp op = ExprOp::kLiteral;
  ExprType type = ExprType::kAny;  // the static type of the node's value (which may also be null)
  std::uint32_t begin = 0;         // source bytes [begin, end), enclosing parentheses included
  std::uint32_t end = 0;
  std::uint32_t at = 0;             // the operator, keyword or function name; == begin for leaves
  std::vector<std::uint32_t> args;  // operands, left to right: indices of earlier nodes
  ExprLiteral literal;              // kLiteral
  std::uint32_t field = 0;          // kField: index into Expression::fields()
  ExprFunction function = ExprFunction::kAbs;  // kCall
  std::vector<ExprLiteral> list;               // kIn, kNotIn: the items, all of one type
};

struct ExprError {
  std::uint32_t offset = 0;  // 0-based byte offset into the expression text
  std::string message;       // e.g. "unknown function \"lowr\" (did you mean \"lower\"?)"
};

struct ExpressionResult;

// A parsed and checked expression; immutable.
class Expression {
 public:
  const std::string& text() const noexcept { return text_; }
  // Every node, children before their parent (a postorder: left operand, right operand, operator),
  // so evaluating them in order is evaluating the expression. The root is the last one.
  std::span<const ExprNode> nodes() const noexcept { return nodes_; }
  const ExprNode& root() const noexcept { return nodes_.back(); }
  ExprType type() const noexcept { return root().type; }
  // The distinct fields it reads, in order of first appearance: what a source must extract.
  std::span<const FieldPath> fields() const noexcept { return fields_; }
  // True for a bare field reference such as `qty` or `(order.qty)`.
  bool isFieldReference() const noexcept { return root().op == ExprOp::kField; }

  // Canonical form, parenthesised only where the grammar needs it: `(a)+(b*2)>3` is
  // "a + b * 2 > 3", `a-(b-c)` stays "a - (b - c)"; keywords and function names lower case,
  // literals as written (strings re-quoted). It parses again to the same expression.
  std::string toString() const;

  // The same expression reading other fields: each of fields() replaced by what `rename` gives
  // for it (a lookup's field renamed to the router's name for it).
  Expression renamed(const std::function<FieldPath(const FieldPath&)>& rename) const;
  // Two expressions are equal when they mean the same: their canonical forms are equal
  // (`a+b` and `(a + b)` are).
  friend bool operator==(const Expression& a, const Expression& b) {
    return a.toString() == b.toString();
  }

 private:
  friend ExpressionResult parseResultExpression(
      std::string_view text, const std::function<ExprType(const FieldPath&)>& types,
      const std::function<bool(std::string_view)>& aggregates);
  Expression(std::string_view text, std::vector<ExprNode> nodes, std::vector<FieldPath> fields);

  std::string text_;
  std::vector<ExprNode> nodes_;
  std::vector<FieldPath> fields_;
};

// Exactly one of: expression set and errors empty, or expression nullopt and errors non-empty.
struct ExpressionResult {
  std::optional<Expression> expression;
  // By offset. A syntax error stops parsing: it is the only error. Otherwise every static error.
  std::vector<ExprError> errors;
};

// The static type of a field where its source declares one (`fields:` of a source config); kAny
// where it does not.
using FieldTypes = std::function<ExprType(const FieldPath&)>;

// Texts over 64 KiB, or nested over 64 levels deep, are refused. With `types`, fields have the
// types it gives them, so that `symbol + 1` is an error where `symbol` is declared a string.
ExpressionResult parseExpression(std::string_view text, const FieldTypes& types = {});

// Whether a lower-case function name is an aggregate's (count, sum, p99, ...).
using AggregateNames = std::function<bool(std::string_view)>;

// An expression over a window's results (a pipeline's computed values, its having): as
// parseExpression, except that a call of a function `aggregates` names is an aggregate's value,
// read as the field whose one segment is the call as written (`sum(price * qty)`). min and max
// are aggregates with one argument and functions of their arguments with more.
ExpressionResult parseResultExpression(std::string_view text, const FieldTypes& types,
                                       const AggregateNames& aggregates);

// Checks that the expression can give a value of the type its user needs: kBool for a where,
// kNumber for an aggregate argument, kAny for a group-by expression (any scalar: only an
// expression that is always null fails). The error points at the expression's root.
std::optional<ExprError> checkResultType(const Expression& expression, ExprType wanted);

}  // namespace rivulet::config

// The printer: an expression's canonical text, and the names of types, functions and fields.
#include <string>

#include "config/expression/expression.h"
#include "config/expression/grammar.h"

namespace rivulet::config {
namespace {

using expr::isKeywordText;
using expr::isName;
using expr::kFunctions;
using expr::quoted;

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

std::string_view functionName(ExprFunction function) noexcept {
  for (const expr::FunctionInfo& f : kFunctions) {
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

}  // namespace rivulet::config

// The static checks: types from the leaves up, and the errors of what can never work.
#include "config/expression/checker.h"

#include <algorithm>

#include "config/expression/grammar.h"
#include "config/expression/tokens.h"
#include "config/text/message_text.h"

namespace rivulet::config {
namespace expr {
namespace {

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

}  // namespace

std::vector<ExprError> checkTypes(std::string_view text, std::vector<ExprNode>& nodes,
                                  std::span<const FieldPath> fields, const FieldTypes& types) {
  return Checker(text, nodes, fields, types).check();
}

}  // namespace expr

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
                                   expr::excerpt(text.substr(root.begin, root.end - root.begin))};
}

}  // namespace rivulet::config

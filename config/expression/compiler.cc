// CompiledExpression's compiler: a checked expression's postorder nodes become one instruction
// each, with constants in one buffer and the stack and scratch sizes fixed here, once.
#include <algorithm>
#include <cstring>

#include "config/expression/program.h"

namespace rivulet::config {
namespace {

ValueKind kindOf(ExprType type) noexcept {
  switch (type) {
    case ExprType::kNumber:
      return ValueKind::kNumber;
    case ExprType::kString:
      return ValueKind::kString;
    case ExprType::kBool:
      return ValueKind::kBool;
    default:
      return ValueKind::kNull;
  }
}

}  // namespace

// The instruction of an operator node.
CompiledExpression::Op CompiledExpression::operatorOf(ExprOp op) noexcept {
  switch (op) {
    case ExprOp::kNegate:
      return Op::kNegate;
    case ExprOp::kNot:
      return Op::kNot;
    case ExprOp::kIsNull:
      return Op::kIsNull;
    case ExprOp::kIsNotNull:
      return Op::kIsNotNull;
    case ExprOp::kMultiply:
      return Op::kMultiply;
    case ExprOp::kDivide:
      return Op::kDivide;
    case ExprOp::kAdd:
      return Op::kAdd;
    case ExprOp::kSubtract:
      return Op::kSubtract;
    case ExprOp::kEqual:
      return Op::kEqual;
    case ExprOp::kNotEqual:
      return Op::kNotEqual;
    case ExprOp::kLess:
      return Op::kLess;
    case ExprOp::kLessEqual:
      return Op::kLessEqual;
    case ExprOp::kGreater:
      return Op::kGreater;
    case ExprOp::kGreaterEqual:
      return Op::kGreaterEqual;
    case ExprOp::kAnd:
      return Op::kAnd;
    case ExprOp::kOr:
      return Op::kOr;
    default:
      return Op::kConstant;  // leaves, calls and lists are compiled by the caller
  }
}

CompiledExpression::CompiledExpression(
    const config::Expression& expression,
    const std::function<int(const config::FieldPath&)>& field_index, ExprType want)
    : want_(kindOf(want)) {
  std::vector<int> indices;
  for (const config::FieldPath& path : expression.fields()) indices.push_back(field_index(path));

  // Constant strings go into one buffer, so the views into it survive moves of this object.
  std::size_t string_bytes = 0;
  for (const ExprNode& node : expression.nodes()) {
    string_bytes += node.literal.text.size();
    for (const config::ExprLiteral& item : node.list) string_bytes += item.text.size();
  }
  strings_ = std::make_unique<char[]>(std::max<std::size_t>(string_bytes, 1));
  std::size_t strings_used = 0;
  const auto constant = [&](const config::ExprLiteral& literal) {
    ExprValue v;
    v.kind = kindOf(literal.type);
    v.number = literal.number;
    v.boolean = literal.boolean;
    if (literal.type == ExprType::kString) {
      std::memcpy(strings_.get() + strings_used, literal.text.data(), literal.text.size());
      v.text = std::string_view(strings_.get() + strings_used, literal.text.size());
      strings_used += literal.text.size();
    }
    constants_.push_back(v);
    return static_cast<std::uint32_t>(constants_.size() - 1);
  };

  // The nodes are in postorder already: one instruction each, in the same order.
  std::size_t depth = 0;
  for (const ExprNode& node : expression.nodes()) {
    Instruction in{Op::kConstant, 0, 0};
    switch (node.op) {
      case ExprOp::kLiteral:
        in.a = constant(node.literal);
        break;
      case ExprOp::kField:
        if (indices[node.field] >= 0) {
          in = {Op::kField, static_cast<std::uint32_t>(indices[node.field]), 0};
        } else {
          in.a = constant(config::ExprLiteral{});  // a field the source never has: null
        }
        break;
      case ExprOp::kCall: {
        static constexpr Op kByFunction[] = {Op::kAbs,   Op::kFloor, Op::kCeil,
                                             Op::kRound, Op::kLower, Op::kUpper,
                                             Op::kLen,   Op::kMin,   Op::kMax};
        in.op = kByFunction[static_cast<std::size_t>(node.function)];
        if (in.op == Op::kLower || in.op == Op::kUpper) {
          in.a = static_cast<std::uint32_t>(scratch_size_);
          scratch_size_ += kMaxFunctionString;
        }
        break;
      }
      case ExprOp::kIn:
      case ExprOp::kNotIn:
        in.op = node.op == ExprOp::kIn ? Op::kIn : Op::kNotIn;
        in.a = static_cast<std::uint32_t>(constants_.size());
        in.b = static_cast<std::uint32_t>(node.list.size());
        for (const config::ExprLiteral& item : node.list) constant(item);
        break;
      default:
        in.op = operatorOf(node.op);
    }
    // Leaves push a value; an operator pops its operands and pushes its result.
    depth = depth + 1 - node.args.size();
    stack_size_ = std::max(stack_size_, depth);
    program_.push_back(in);
  }
  stack_ = std::make_unique<ExprValue[]>(stack_size_);
  if (scratch_size_ > 0) scratch_ = std::make_unique<char[]>(scratch_size_);
  if (expression.isFieldReference() && program_.front().op == Op::kField) {
    field_reference_ = true;
    field_index_ = static_cast<int>(program_.front().a);
  }
  field_compare_ = program_.size() == 3 && program_[0].op == Op::kField &&
                   program_[1].op == Op::kConstant &&
                   constants_[program_[1].a].kind == ValueKind::kNumber &&
                   program_[2].op >= Op::kEqual && program_[2].op <= Op::kGreaterEqual &&
                   (want_ == ValueKind::kNull || want_ == ValueKind::kBool);
  if (field_compare_) {
    compare_field_ = program_[0].a;
    compare_constant_ = constants_[program_[1].a].number;
    compare_op_ = program_[2].op;
  }
}

}  // namespace rivulet::config

// CompiledExpression: a checked expression (config/expression/expression.h) bound to a source's
// event layout and evaluated over an event's FieldValues on the hot path, without allocating.
// The details, precisely: docs/architecture.md, "Expressions at run time".
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "config/expression/expression.h"
#include "config/expression/field_value.h"

namespace rivulet::config {

// Longest string lower() or upper() handles.
inline constexpr std::size_t kMaxFunctionString = 4096;

enum class ValueKind : std::uint8_t { kNull, kNumber, kString, kBool, kError };

// Why an evaluation failed; the router counts it under the pipeline's refusal reason.
enum class EvalError : std::uint8_t {
  kNone,
  kWrongType,  // a value of a type its operator cannot take
  kTooLarge,   // a string over kMaxFunctionString given to lower() or upper()
};

struct ExprValue {
  ValueKind kind = ValueKind::kNull;
  bool boolean = false;                // kBool
  EvalError error = EvalError::kNone;  // kError
  double number = 0;                   // kNumber
  // kString: points into the event's field data or the expression's scratch buffer; valid until
  // the event's fields change or the expression is evaluated again.
  std::string_view text;
};

// True for the one result that keeps an event in a where.
inline bool isTrue(const ExprValue& value) noexcept {
  return value.kind == ValueKind::kBool && value.boolean;
}

// Thread contract: evaluate() uses the object's own value stack and scratch buffer, so each
// thread (each source's router) needs its own CompiledExpression.
class CompiledExpression {
 public:
  // `field_index` maps each of expression.fields() to its index in the FieldValue array
  // evaluate() gets; a negative index is a field the source never has (always missing). `want`
  // is the result type the caller needs: kBool, kNumber, kString, or kAny for any scalar.
  CompiledExpression(const config::Expression& expression,
                     const std::function<int(const config::FieldPath&)>& field_index,
                     config::ExprType want = config::ExprType::kAny);

  // `fields` must hold every index field_index gave.
  ExprValue evaluate(const FieldValue* fields) noexcept;

  // The filter `field <comparison> number` over a numeric field (`event_type == 2`), decided
  // inline: true with `keep` set; false when evaluate() must decide (another program, another
  // field type). Saves the router a call and a value per event and pipeline.
  bool filterInline(const FieldValue* fields, bool& keep) const noexcept {
    if (!field_compare_) return false;
    const FieldValue& f = fields[compare_field_];
    if (f.type != FieldType::kNumber) return false;
    const double x = f.number;
    const double c = compare_constant_;
    switch (compare_op_) {
      case Op::kEqual:
        keep = x == c;
        break;
      case Op::kNotEqual:
        keep = x != c;
        break;
      case Op::kLess:
        keep = x < c;
        break;
      case Op::kLessEqual:
        keep = x <= c;
        break;
      case Op::kGreater:
        keep = x > c;
        break;
      default:
        keep = x >= c;
        break;
    }
    return true;
  }

  // A bare field reference (`qty`), which callers may read directly; fieldIndex() is its index.
  bool isFieldReference() const noexcept { return field_reference_; }
  int fieldIndex() const noexcept { return field_index_; }

  // Values on the stack at the deepest point, and scratch bytes: both fixed at compile time.
  std::size_t stackSize() const noexcept { return stack_size_; }
  std::size_t scratchSize() const noexcept { return scratch_size_; }

 private:
  enum class Op : std::uint8_t {
    kField,
    kConstant,
    kNegate,
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
    kAbs,
    kFloor,
    kCeil,
    kRound,
    kLower,
    kUpper,
    kLen,
    kMin,
    kMax,
  };
  struct Instruction {
    Op op;
    std::uint32_t a;  // kField: field index; kConstant: constant; kIn/kNotIn: first item;
                      // kLower/kUpper: scratch offset
    std::uint32_t b;  // kIn/kNotIn: number of items
  };

  static Op operatorOf(config::ExprOp op) noexcept;

  std::vector<Instruction> program_;  // postfix: operands are pushed before their operator
  std::vector<ExprValue> constants_;  // literals and list items; strings point into strings_
  std::unique_ptr<char[]> strings_;
  std::unique_ptr<ExprValue[]> stack_;
  std::unique_ptr<char[]> scratch_;
  std::size_t stack_size_ = 0;
  std::size_t scratch_size_ = 0;
  ValueKind want_ = ValueKind::kNull;  // kNull: any kind
  bool field_reference_ = false;
  int field_index_ = -1;
  // The program is `field <comparison> number` (`event_type == 2`, `qty >= 100`), the common
  // filter: for a numeric field evaluate() compares directly, without the stack.
  bool field_compare_ = false;
  std::uint32_t compare_field_ = 0;  // field_compare_: the program's three parts
  double compare_constant_ = 0;
  Op compare_op_ = Op::kEqual;
};

}  // namespace rivulet::config

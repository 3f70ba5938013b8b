// CompiledExpression: a checked expression (config/expression/expression.h) bound to a source's
// event layout and evaluated over an event's FieldValues on the hot path, without allocating.
//
// Runtime semantics, SQL-like:
//   - A missing or null field is null. Arithmetic, functions and comparisons of null are null.
//   - `and`/`or` are three-valued: false and null = false, true or null = true, otherwise null
//     with null. `not null` is null. `x is null` / `x is not null` are never null.
//   - `x in [...]` is null when x is null, else whether x equals an item; `not in` its negation.
//   - A value of the wrong runtime type where an operator needs another (a string in arithmetic, a
//     number under `not`, a string compared with a number, a bool under `<`, an object or array
//     anywhere) makes the whole expression an error with reason kWrongType, whatever the rest
//     would give: errors are strict, there is no short-circuit (`false and 'x' > 1` is an error).
//   - Numbers are doubles: integers beyond 2^53 lose precision. Equality and order are IEEE.
//     Division by zero is null, and so is any other arithmetic result that is NaN (inf - inf);
//     an overflow is ±inf.
//   - Strings compare bytewise (unsigned). lower()/upper() change ASCII letters only; each call
//     writes its result into its own kMaxFunctionString-byte slice of the expression's scratch
//     buffer: a longer input makes the result an error with reason kTooLarge. len() counts UTF-8
//     code points (bytes that are not continuation bytes). round() rounds half away from zero.
//     min()/max() of a null are null.
//   - The result must be of the type the caller asked for at compile time (kBool for a where,
//     kNumber for an aggregate argument, kAny for a group-by key); any other non-null result is
//     kWrongType. A where keeps an event only when the result is true: false and null drop it,
//     an error refuses it.
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

  // A bare field reference (`qty`), which callers may read directly; fieldIndex() is its index.
  bool isFieldReference() const noexcept { return field_reference_; }
  int fieldIndex() const noexcept { return field_index_; }

  // Values on the stack at the deepest point, and scratch bytes: both fixed at compile time.
  std::size_t stackSize() const noexcept { return stack_size_; }
  std::size_t scratchSize() const noexcept { return scratch_size_; }

 private:
  enum class Op : std::uint8_t;
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
};

}  // namespace rivulet::config

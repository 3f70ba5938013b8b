// CompiledExpression's evaluator: the program run over one event's fields on a fixed stack.
#include "config/expression/program.h"

#include <algorithm>
#include <cmath>

namespace rivulet::config {
namespace {

ExprValue nullValue() noexcept { return ExprValue{}; }

ExprValue numberValue(double number) noexcept {
  ExprValue v;
  v.kind = ValueKind::kNumber;
  v.number = number;
  return v;
}

ExprValue boolValue(bool boolean) noexcept {
  ExprValue v;
  v.kind = ValueKind::kBool;
  v.boolean = boolean;
  return v;
}

ExprValue errorValue(EvalError reason) noexcept {
  ExprValue v;
  v.kind = ValueKind::kError;
  v.error = reason;
  return v;
}

// Whether `v` may stand where a `kind` is needed: it is one, or null.
bool fits(const ExprValue& v, ValueKind kind) noexcept {
  return v.kind == kind || v.kind == ValueKind::kNull;
}

// NaN is not a value rivulet passes on: aggregates read it as "no value". Say so explicitly.
ExprValue arithmetic(double result) noexcept {
  return std::isnan(result) ? nullValue() : numberValue(result);
}

bool equal(const ExprValue& a, const ExprValue& b) noexcept {
  switch (a.kind) {
    case ValueKind::kNumber:
      return a.number == b.number;
    case ValueKind::kString:
      return a.text == b.text;
    default:
      return a.boolean == b.boolean;
  }
}

// -1, 0 or 1; numbers or strings of one kind, neither NaN (see arithmetic()).
int order(const ExprValue& a, const ExprValue& b) noexcept {
  if (a.kind == ValueKind::kNumber) return a.number < b.number ? -1 : (a.number > b.number ? 1 : 0);
  const int c = a.text.compare(b.text);  // char_traits<char>: bytewise, as unsigned char
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

char toLower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }
char toUpper(char c) noexcept { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; }

}  // namespace

ExprValue CompiledExpression::evaluate(const FieldValue* fields) noexcept {
  if (field_compare_) {
    // What the program below computes for a number; any other field takes the long way.
    const FieldValue& f = fields[program_[0].a];
    if (f.type == FieldType::kNumber) {
      const double x = f.number;
      const double c = constants_[program_[1].a].number;
      switch (program_[2].op) {
        case Op::kEqual:
          return boolValue(x == c);
        case Op::kNotEqual:
          return boolValue(x != c);
        case Op::kLess:
          return boolValue(x < c);
        case Op::kLessEqual:
          return boolValue(x <= c);
        case Op::kGreater:
          return boolValue(x > c);
        default:
          return boolValue(x >= c);
      }
    }
  }
  // `top` points one past the top of the stack. An error ends the evaluation at once: errors are
  // strict, so the first one is the result.
  ExprValue* top = stack_.get();
  for (const Instruction& in : program_) {
    switch (in.op) {
      case Op::kField: {
        const FieldValue& f = fields[in.a];
        ExprValue& v = *top++;
        v = nullValue();
        switch (f.type) {
          case FieldType::kMissing:
          case FieldType::kNull:
            break;
          case FieldType::kNumber:
            v.kind = ValueKind::kNumber;
            v.number = f.number;
            break;
          case FieldType::kString:
            v.kind = ValueKind::kString;
            v.text = f.text;
            break;
          case FieldType::kBool:
            v.kind = ValueKind::kBool;
            v.boolean = !f.text.empty() && f.text.front() == 't';  // the parser's "true"/"false"
            break;
          default:
            return errorValue(EvalError::kWrongType);  // an object or array
        }
        break;
      }
      case Op::kConstant:
        *top++ = constants_[in.a];
        break;
      case Op::kNegate:
      case Op::kAbs:
      case Op::kFloor:
      case Op::kCeil:
      case Op::kRound: {
        ExprValue& v = top[-1];
        if (!fits(v, ValueKind::kNumber)) return errorValue(EvalError::kWrongType);
        if (v.kind == ValueKind::kNull) break;
        v.number = in.op == Op::kNegate  ? -v.number
                   : in.op == Op::kAbs   ? std::fabs(v.number)
                   : in.op == Op::kFloor ? std::floor(v.number)
                   : in.op == Op::kCeil  ? std::ceil(v.number)
                                         : std::round(v.number);
        break;
      }
      case Op::kNot: {
        ExprValue& v = top[-1];
        if (!fits(v, ValueKind::kBool)) return errorValue(EvalError::kWrongType);
        if (v.kind == ValueKind::kBool) v.boolean = !v.boolean;
        break;
      }
      case Op::kIsNull:
      case Op::kIsNotNull:
        top[-1] = boolValue((top[-1].kind == ValueKind::kNull) == (in.op == Op::kIsNull));
        break;
      case Op::kMultiply:
      case Op::kDivide:
      case Op::kAdd:
      case Op::kSubtract:
      case Op::kMin:
      case Op::kMax: {
        --top;
        ExprValue& a = top[-1];
        const ExprValue& b = top[0];
        if (!fits(a, ValueKind::kNumber) || !fits(b, ValueKind::kNumber)) {
          return errorValue(EvalError::kWrongType);
        }
        if (a.kind == ValueKind::kNull || b.kind == ValueKind::kNull) {
          a = nullValue();
          break;
        }
        const double x = a.number;
        const double y = b.number;
        switch (in.op) {
          case Op::kMultiply:
            a = arithmetic(x * y);
            break;
          case Op::kDivide:
            a = y == 0 ? nullValue() : arithmetic(x / y);
            break;
          case Op::kAdd:
            a = arithmetic(x + y);
            break;
          case Op::kSubtract:
            a = arithmetic(x - y);
            break;
          case Op::kMin:
            a.number = y < x ? y : x;
            break;
          default:
            a.number = x < y ? y : x;
        }
        break;
      }
      case Op::kEqual:
      case Op::kNotEqual:
      case Op::kLess:
      case Op::kLessEqual:
      case Op::kGreater:
      case Op::kGreaterEqual: {
        --top;
        ExprValue& a = top[-1];
        const ExprValue& b = top[0];
        if (in.op != Op::kEqual && in.op != Op::kNotEqual &&
            (a.kind == ValueKind::kBool || b.kind == ValueKind::kBool)) {
          return errorValue(EvalError::kWrongType);  // bools have no order
        }
        if (a.kind == ValueKind::kNull || b.kind == ValueKind::kNull) {
          a = nullValue();
          break;
        }
        if (a.kind != b.kind) return errorValue(EvalError::kWrongType);
        bool result;
        switch (in.op) {
          case Op::kEqual:
            result = equal(a, b);
            break;
          case Op::kNotEqual:
            result = !equal(a, b);
            break;
          case Op::kLess:
            result = order(a, b) < 0;
            break;
          case Op::kLessEqual:
            result = order(a, b) <= 0;
            break;
          case Op::kGreater:
            result = order(a, b) > 0;
            break;
          default:
            result = order(a, b) >= 0;
        }
        a = boolValue(result);
        break;
      }
      case Op::kAnd:
      case Op::kOr: {
        --top;
        ExprValue& a = top[-1];
        const ExprValue& b = top[0];
        if (!fits(a, ValueKind::kBool) || !fits(b, ValueKind::kBool)) {
          return errorValue(EvalError::kWrongType);
        }
        // The value that decides alone: false for and, true for or.
        const bool decisive = in.op == Op::kOr;
        if ((a.kind == ValueKind::kBool && a.boolean == decisive) ||
            (b.kind == ValueKind::kBool && b.boolean == decisive)) {
          a = boolValue(decisive);
        } else if (a.kind == ValueKind::kNull || b.kind == ValueKind::kNull) {
          a = nullValue();
        } else {
          a = boolValue(!decisive);
        }
        break;
      }
      case Op::kIn:
      case Op::kNotIn: {
        ExprValue& v = top[-1];
        if (v.kind == ValueKind::kNull) break;
        const ExprValue* items = constants_.data() + in.a;
        if (v.kind != items[0].kind) return errorValue(EvalError::kWrongType);
        const bool found =
            std::any_of(items, items + in.b, [&](const ExprValue& item) { return equal(v, item); });
        v = boolValue(found == (in.op == Op::kIn));
        break;
      }
      case Op::kLower:
      case Op::kUpper: {
        ExprValue& v = top[-1];
        if (!fits(v, ValueKind::kString)) return errorValue(EvalError::kWrongType);
        if (v.kind == ValueKind::kNull) break;
        if (v.text.size() > kMaxFunctionString) return errorValue(EvalError::kTooLarge);
        char* out = scratch_.get() + in.a;
        if (in.op == Op::kLower) {
          std::transform(v.text.begin(), v.text.end(), out, toLower);
        } else {
          std::transform(v.text.begin(), v.text.end(), out, toUpper);
        }
        v.text = std::string_view(out, v.text.size());
        break;
      }
      case Op::kLen: {
        ExprValue& v = top[-1];
        if (!fits(v, ValueKind::kString)) return errorValue(EvalError::kWrongType);
        if (v.kind == ValueKind::kNull) break;
        // A code point starts at every byte that is not a continuation byte (10xxxxxx).
        const auto points = std::count_if(v.text.begin(), v.text.end(), [](char c) {
          return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
        });
        v = numberValue(static_cast<double>(points));
        break;
      }
    }
  }
  const ExprValue& result = stack_[0];
  if (want_ != ValueKind::kNull && result.kind != ValueKind::kNull && result.kind != want_) {
    return errorValue(EvalError::kWrongType);
  }
  return result;
}

}  // namespace rivulet::config

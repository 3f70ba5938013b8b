// CompiledExpression against a deliberately simple reference interpreter: random well-typed
// expressions over random events (every field type, nulls, missing fields, over-long strings), in
// every result type a caller may ask for; the canonical form of each expression parses back to
// itself.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/expression/expression.h"
#include "config/expression/program.h"
#include "tests/support/field_values.h"
#include "tests/unit/config/expression/eval_support.h"

namespace rivulet::pipeline {
namespace {

using config::ExprType;
using config::FieldPath;
using namespace testutil;

// A value as the reference computes it: plain, owning.
struct RefValue {
  config::ValueKind kind = config::ValueKind::kNull;
  double number = 0;
  bool boolean = false;
  std::string text;
  config::EvalError error = config::EvalError::kNone;
};

RefValue refNumber(double d) {
  return {config::ValueKind::kNumber, d, false, "", config::EvalError::kNone};
}
RefValue refBool(bool b) { return {config::ValueKind::kBool, 0, b, "", config::EvalError::kNone}; }
RefValue refString(std::string s) {
  return {config::ValueKind::kString, 0, false, std::move(s), config::EvalError::kNone};
}
RefValue refError(config::EvalError r) { return {config::ValueKind::kError, 0, false, "", r}; }

// Recursive over the AST, straight from the semantics in config/expression/program.h.
class Reference {
 public:
  Reference(const config::Expression& e, const std::vector<config::FieldValue>& event,
            const std::vector<int>& index)
      : e_(e), event_(event), index_(index) {}

  RefValue result(ExprType want) {
    RefValue v = eval(static_cast<std::uint32_t>(e_.nodes().size() - 1));
    const config::ValueKind wanted = want == ExprType::kBool     ? config::ValueKind::kBool
                                     : want == ExprType::kNumber ? config::ValueKind::kNumber
                                     : want == ExprType::kString ? config::ValueKind::kString
                                                                 : config::ValueKind::kNull;
    if (v.kind != config::ValueKind::kError && v.kind != config::ValueKind::kNull &&
        wanted != config::ValueKind::kNull && v.kind != wanted) {
      return refError(config::EvalError::kWrongType);
    }
    return v;
  }

 private:
  RefValue eval(std::uint32_t i) {
    const config::ExprNode& node = e_.nodes()[i];
    if (node.op == config::ExprOp::kLiteral) return literal(node.literal);
    if (node.op == config::ExprOp::kField) {
      const config::FieldValue& f = event_[index_[node.field]];
      switch (f.type) {
        case config::FieldType::kNumber:
          return refNumber(f.number);
        case config::FieldType::kString:
          return refString(std::string(f.text));
        case config::FieldType::kBool:
          return refBool(f.text == "true");
        case config::FieldType::kOther:
          return refError(config::EvalError::kWrongType);
        default:
          return RefValue{};
      }
    }
    std::vector<RefValue> args;
    for (const std::uint32_t arg : node.args) {
      args.push_back(eval(arg));
      if (args.back().kind == config::ValueKind::kError) return args.back();
    }
    const auto is = [](const RefValue& v, config::ValueKind k) { return v.kind == k; };
    const auto isNull = [&](const RefValue& v) { return is(v, config::ValueKind::kNull); };
    const auto anyNull = [&] { return std::any_of(args.begin(), args.end(), isNull); };
    // Every non-null argument must be a `k`.
    const auto allFit = [&](config::ValueKind k) {
      return std::all_of(args.begin(), args.end(),
                         [&](const RefValue& v) { return isNull(v) || is(v, k); });
    };
    const auto number = [](double d) { return std::isnan(d) ? RefValue{} : refNumber(d); };
    using config::ExprOp;
    switch (node.op) {
      case ExprOp::kNegate:
      case ExprOp::kMultiply:
      case ExprOp::kDivide:
      case ExprOp::kAdd:
      case ExprOp::kSubtract: {
        if (!allFit(config::ValueKind::kNumber)) return refError(config::EvalError::kWrongType);
        if (anyNull()) return RefValue{};
        const double x = args[0].number;
        if (node.op == ExprOp::kNegate) return refNumber(-x);
        const double y = args[1].number;
        if (node.op == ExprOp::kMultiply) return number(x * y);
        if (node.op == ExprOp::kDivide) return y == 0 ? RefValue{} : number(x / y);
        if (node.op == ExprOp::kAdd) return number(x + y);
        return number(x - y);
      }
      case ExprOp::kNot:
        if (!allFit(config::ValueKind::kBool)) return refError(config::EvalError::kWrongType);
        return anyNull() ? RefValue{} : refBool(!args[0].boolean);
      case ExprOp::kIsNull:
        return refBool(isNull(args[0]));
      case ExprOp::kIsNotNull:
        return refBool(!isNull(args[0]));
      case ExprOp::kAnd:
      case ExprOp::kOr: {
        if (!allFit(config::ValueKind::kBool)) return refError(config::EvalError::kWrongType);
        // 0 false, 1 true, 2 null.
        const int x = isNull(args[0]) ? 2 : args[0].boolean;
        const int y = isNull(args[1]) ? 2 : args[1].boolean;
        if (node.op == ExprOp::kAnd) {
          if (x == 0 || y == 0) return refBool(false);
          if (x == 2 || y == 2) return RefValue{};
          return refBool(true);
        }
        if (x == 1 || y == 1) return refBool(true);
        if (x == 2 || y == 2) return RefValue{};
        return refBool(false);
      }
      case ExprOp::kEqual:
      case ExprOp::kNotEqual: {
        if (anyNull()) return RefValue{};
        if (args[0].kind != args[1].kind) return refError(config::EvalError::kWrongType);
        const bool same = same_(args[0], args[1]);
        return refBool(node.op == ExprOp::kEqual ? same : !same);
      }
      case ExprOp::kLess:
      case ExprOp::kLessEqual:
      case ExprOp::kGreater:
      case ExprOp::kGreaterEqual: {
        if (is(args[0], config::ValueKind::kBool) || is(args[1], config::ValueKind::kBool)) {
          return refError(config::EvalError::kWrongType);
        }
        if (anyNull()) return RefValue{};
        if (args[0].kind != args[1].kind) return refError(config::EvalError::kWrongType);
        bool less;
        bool equal;
        if (is(args[0], config::ValueKind::kNumber)) {
          less = args[0].number < args[1].number;
          equal = args[0].number == args[1].number;
        } else {
          const auto& a = args[0].text;
          const auto& b = args[1].text;
          less = std::lexicographical_compare(
              a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
                return static_cast<unsigned char>(x) < static_cast<unsigned char>(y);
              });
          equal = a == b;
        }
        if (node.op == ExprOp::kLess) return refBool(less);
        if (node.op == ExprOp::kLessEqual) return refBool(less || equal);
        if (node.op == ExprOp::kGreater) return refBool(!less && !equal);
        return refBool(!less);
      }
      case ExprOp::kIn:
      case ExprOp::kNotIn: {
        if (isNull(args[0])) return RefValue{};
        bool found = false;
        for (const config::ExprLiteral& item : node.list) {
          const RefValue v = literal(item);
          if (v.kind != args[0].kind) return refError(config::EvalError::kWrongType);
          found = found || same_(args[0], v);
        }
        return refBool(node.op == ExprOp::kIn ? found : !found);
      }
      case ExprOp::kCall:
        return call(node.function, args);
      default:
        ADD_FAILURE() << "unexpected node";
        return RefValue{};
    }
  }

  RefValue call(config::ExprFunction function, const std::vector<RefValue>& args) {
    using config::ExprFunction;
    const bool on_strings = function == ExprFunction::kLower || function == ExprFunction::kUpper ||
                            function == ExprFunction::kLen;
    for (const RefValue& a : args) {
      if (a.kind != config::ValueKind::kNull &&
          a.kind != (on_strings ? config::ValueKind::kString : config::ValueKind::kNumber)) {
        return refError(config::EvalError::kWrongType);
      }
    }
    for (const RefValue& a : args) {
      if (a.kind == config::ValueKind::kNull) return RefValue{};
    }
    switch (function) {
      case ExprFunction::kAbs:
        return refNumber(std::fabs(args[0].number));
      case ExprFunction::kFloor:
        return refNumber(std::floor(args[0].number));
      case ExprFunction::kCeil:
        return refNumber(std::ceil(args[0].number));
      case ExprFunction::kRound:
        return refNumber(std::round(args[0].number));
      case ExprFunction::kMin:
        return refNumber(std::min(args[0].number, args[1].number));
      case ExprFunction::kMax:
        return refNumber(std::max(args[0].number, args[1].number));
      case ExprFunction::kLen: {
        double points = 0;
        for (const char c : args[0].text) points += (static_cast<unsigned char>(c) >> 6) != 2;
        return refNumber(points);
      }
      default: {
        if (args[0].text.size() > config::kMaxFunctionString)
          return refError(config::EvalError::kTooLarge);
        std::string s = args[0].text;
        for (char& c : s) {
          if (function == ExprFunction::kLower && c >= 'A' && c <= 'Z') c = c - 'A' + 'a';
          if (function == ExprFunction::kUpper && c >= 'a' && c <= 'z') c = c - 'a' + 'A';
        }
        return refString(s);
      }
    }
  }

  static RefValue literal(const config::ExprLiteral& l) {
    switch (l.type) {
      case ExprType::kNumber:
        return refNumber(l.number);
      case ExprType::kString:
        return refString(l.text);
      case ExprType::kBool:
        return refBool(l.boolean);
      default:
        return RefValue{};
    }
  }

  static bool same_(const RefValue& a, const RefValue& b) {
    return a.kind == config::ValueKind::kNumber   ? a.number == b.number
           : a.kind == config::ValueKind::kString ? a.text == b.text
                                                  : a.boolean == b.boolean;
  }

  const config::Expression& e_;
  const std::vector<config::FieldValue>& event_;
  const std::vector<int>& index_;
};

// Random well-typed expression texts over five fields (whose runtime types are random).
class RandomExpression {
 public:
  explicit RandomExpression(std::uint64_t seed) : rng_(seed) {}

  std::string next() {
    switch (pick(3)) {
      case 0:
        return number(4, true);
      case 1:
        return text(4, true);
      default:
        return condition(4, true);
    }
  }

 private:
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  std::string field() { return oneOf({"a", "b", "s", "o.x", "`odd f`"}); }

  // A leaf: a field (mostly one whose values are usually of the wanted kind, `usual`), a
  // literal of that kind, or null if allowed.
  std::string leaf(std::string literal, std::string usual, bool null_ok) {
    const int r = pick(10);
    if (r < 3) return usual;
    if (r < 5) return field();
    if (r == 9 && null_ok) return "null";
    return literal;
  }

  std::string number(int depth, bool null_ok) {
    if (depth == 0 || pick(4) == 0) {
      return leaf(oneOf({"0", "1", "2.5", "-0.5", "1e3", "3", "0.1", "1e308"}), oneOf({"a", "b"}),
                  null_ok);
    }
    --depth;
    switch (pick(9)) {
      case 0:
        return "(" + number(depth, true) + " " + oneOf({"+", "-", "*", "/"}) + " " +
               number(depth, true) + ")";
      case 1:
        return number(depth, true) + " " + oneOf({"+", "-", "*", "/"}) + " " + number(0, true);
      case 2:
        return "-" + number(depth, false);
      case 3:
        return std::string(oneOf({"abs", "floor", "ceil", "round"})) + "(" + number(depth, true) +
               ")";
      case 4:
        return "len(" + text(depth, true) + ")";
      case 5:
        return std::string(oneOf({"min", "max"})) + "(" + number(depth, true) + ", " +
               number(depth, true) + ")";
      default:
        return "(" + number(depth, null_ok) + ")";
    }
  }

  std::string text(int depth, bool null_ok) {
    if (depth == 0 || pick(3) == 0) {
      return leaf(oneOf({"'a'", "'B'", "''", "'buy'", "'it''s'", "'\xC3\xA9'"}), "s", null_ok);
    }
    return std::string(oneOf({"lower", "upper"})) + "(" + text(depth - 1, true) + ")";
  }

  std::string condition(int depth, bool null_ok) {
    if (depth == 0 || pick(5) == 0) return leaf(oneOf({"true", "false"}), "o.x", null_ok);
    --depth;
    switch (pick(10)) {
      case 0:
        return "(not " + condition(depth, true) + ")";
      case 1:
      case 2:
        return "(" + condition(depth, true) + " " + oneOf({"and", "or"}) + " " +
               condition(depth, true) + ")";
      case 3:
        return "(" + number(depth, false) + " " + oneOf({"==", "!=", "<", "<=", ">", ">="}) + " " +
               number(depth, false) + ")";
      case 4:
        return "(" + text(depth, false) + " " + oneOf({"==", "!=", "<", "<=", ">", ">="}) + " " +
               text(depth, false) + ")";
      case 5:
        return "(" + condition(depth, false) + " " + oneOf({"==", "!="}) + " " +
               condition(depth, false) + ")";
      case 6:
        return "(" + field() + " " + oneOf({"==", "!=", "<", ">="}) + " " +
               oneOf({"1", "'a'", "'buy'", "2.5", "0"}) + ")";
      case 7:
        switch (pick(4)) {
          case 0:
            return "(" + number(depth, false) + oneOf({" in ", " not in "}) +
                   oneOf({"[1])", "[0, 2.5, -0.5])", "[3, 1e3])"});
          case 1:
            return "(" + text(depth, false) + oneOf({" in ", " not in "}) +
                   oneOf({"['a'])", "['buy', '', 'B'])", "['\xC3\xA9', 'it''s'])"});
          case 2:
            return "(" + condition(depth, false) + oneOf({" in ", " not in "}) +
                   oneOf({"[true])", "[false, true])"});
          default:
            return "(" + field() + oneOf({" in ", " not in "}) +
                   oneOf({"[1, 3])", "['a', 'buy'])", "[true])"});
        }
      case 8:
        return "(" + oneOf({number(depth, true), text(depth, true), condition(depth, true)}) +
               oneOf({" is null", " is not null"}) + ")";
      default:
        return "(" + condition(depth, null_ok) + ")";
    }
  }

  std::string oneOf(std::initializer_list<std::string> choices) {
    return *(choices.begin() + pick(static_cast<int>(choices.size())));
  }

  std::mt19937_64 rng_;
};

// Random field values: every type, nulls, missing fields, the odd object and over-long string.
class RandomEvent {
 public:
  explicit RandomEvent(std::uint64_t seed)
      : rng_(seed), long_(config::kMaxFunctionString + 3, 'Q') {}

  // Three times in four a value of the `usual` type (kNumber, kString or kBool), if one is given.
  config::FieldValue next(config::FieldType usual = config::FieldType::kOther) {
    if (usual != config::FieldType::kOther && std::uniform_int_distribution<int>(0, 3)(rng_) != 0) {
      const int r = std::uniform_int_distribution<int>(0, 23)(rng_);
      if (usual == config::FieldType::kNumber) return number(kNumbers[r % std::size(kNumbers)]);
      if (usual == config::FieldType::kBool) return boolean(r % 2 == 0);
      return str(r == 0 ? std::string_view(long_) : kStrings[r % std::size(kStrings)]);
    }
    const int r = std::uniform_int_distribution<int>(0, 39)(rng_);
    if (r < 4) return missing();
    if (r < 8) return null();
    if (r < 20) return number(kNumbers[r % std::size(kNumbers)]);
    if (r < 31) return str(kStrings[r % std::size(kStrings)]);
    if (r < 37) return boolean(r % 2 == 0);
    if (r < 39) return str(long_);
    return other();
  }

 private:
  static constexpr double kNumbers[] = {0, -0.0, 1, -2, 2.5, 3, 10, 1e308, -1e308, 0.1, 7, -0.5};
  static constexpr std::string_view kStrings[] = {
      "", "a", "B", "buy", "SELL", "h\xC3\xA9llo", "\xC3\x9Cn", "zz", "a b", "it's", "\xC3\xA9"};
  std::mt19937_64 rng_;
  std::string long_;
};

bool sameValue(const config::ExprValue& got, const RefValue& want) {
  if (got.kind != want.kind) return false;
  switch (got.kind) {
    case config::ValueKind::kNumber:
      return got.number == want.number;
    case config::ValueKind::kString:
      return got.text == want.text;
    case config::ValueKind::kBool:
      return got.boolean == want.boolean;
    case config::ValueKind::kError:
      return got.error == want.error;
    default:
      return true;
  }
}

std::string showRef(const RefValue& v) {
  config::ExprValue e;
  e.kind = v.kind;
  e.number = v.number;
  e.boolean = v.boolean;
  e.text = v.text;
  e.error = v.error;
  return show(e);
}

TEST(ExpressionProperty, CompiledEqualsReferenceOnRandomExpressionsAndEvents) {
  constexpr int kExpressions = 5000;
  constexpr int kEventsEach = 40;
  RandomExpression expressions(20240601);
  RandomEvent events(7);
  std::mt19937_64 rng(99);
  const ExprType wants[] = {ExprType::kAny, ExprType::kAny, ExprType::kBool, ExprType::kNumber,
                            ExprType::kString};
  std::map<std::string, int> outcomes;  // how often each kind of result came out
  int mismatches = 0;
  for (int n = 0; n < kExpressions; ++n) {
    const std::string text = expressions.next();
    const config::ExpressionResult result = config::parseExpression(text);
    ASSERT_TRUE(result.expression.has_value())
        << text << ": " << result.errors.front().offset << ": " << result.errors.front().message;
    const config::Expression& e = *result.expression;
    // The canonical form parses back to itself.
    const config::ExpressionResult again = config::parseExpression(e.toString());
    ASSERT_TRUE(again.expression.has_value()) << e.toString();
    ASSERT_EQ(again.expression->toString(), e.toString());

    // Fields sit at shuffled places of a larger event, as a source plan would put them.
    std::vector<int> index;
    for (std::size_t i = 0; i < e.fields().size(); ++i)
      index.push_back(static_cast<int>(2 * i + 1));
    const ExprType want = wants[rng() % std::size(wants)];
    config::CompiledExpression compiled(
        e,
        [&](const FieldPath& path) {
          const auto at = std::find(e.fields().begin(), e.fields().end(), path);
          return index[at - e.fields().begin()];
        },
        want);
    std::vector<config::FieldValue> event(2 * e.fields().size() + 1);
    for (int k = 0; k < kEventsEach; ++k) {
      for (config::FieldValue& f : event) f = events.next();
      for (std::size_t i = 0; i < e.fields().size(); ++i) {
        // a and b are mostly numbers, s strings, o.x bools; `odd f` anything.
        const std::string path = e.fields()[i].toString();
        const config::FieldType usual = path == "s"                  ? config::FieldType::kString
                                        : path == "o.x"              ? config::FieldType::kBool
                                        : path == "a" || path == "b" ? config::FieldType::kNumber
                                                                     : config::FieldType::kOther;
        event[index[i]] = events.next(usual);
      }
      const config::ExprValue got = compiled.evaluate(event.data());
      const RefValue expected = Reference(e, event, index).result(want);
      if (!sameValue(got, expected) && ++mismatches <= 10) {
        std::string values;
        for (std::size_t i = 0; i < e.fields().size(); ++i) {
          const config::FieldValue& f = event[index[i]];
          values.append(" ").append(e.fields()[i].toString()).append("=");
          values.append(std::to_string(static_cast<int>(f.type))).append(":");
          values.append(f.type == config::FieldType::kNumber ? std::to_string(f.number)
                                                             : std::string(f.text.substr(0, 20)));
        }
        ADD_FAILURE() << text << " (want " << config::typeName(want) << ") with" << values
                      << ": compiled " << show(got).substr(0, 60) << ", reference "
                      << showRef(expected).substr(0, 60);
      }
      ++outcomes[got.kind == config::ValueKind::kString   ? "string"
                 : got.kind == config::ValueKind::kNumber ? "number"
                                                          : show(got)];
    }
  }
  EXPECT_EQ(mismatches, 0);
  // The generator reaches every kind of outcome, each often enough to mean something.
  for (const char* kind :
       {"null", "number", "string", "true", "false", "error wrong_type", "error too_large"}) {
    EXPECT_GE(outcomes[kind], 100) << kind;
  }
  std::string summary;
  for (const auto& [kind, count] : outcomes) {
    summary.append(" ").append(kind).append(": ").append(std::to_string(count));
  }
  std::printf("outcomes:%s\n", summary.c_str());
}

}  // namespace
}  // namespace rivulet::pipeline

// CompiledExpression: every operator and function over FieldValues, null and error semantics,
// three-valued logic, `in` lists, the string functions' scratch limit, the result type a caller
// asks for, no allocation while evaluating, and a property test against a deliberately simple
// reference interpreter on random expressions over random events.
#include "config/expression/program.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <new>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/expression/expression.h"
#include "connectors/formats/json_event_parser.h"
#include "tests/support/field_values.h"
#include "tests/unit/pipeline/allocation_counter.h"

namespace rivulet::pipeline {
namespace {

using config::ExprType;
using config::FieldPath;
using testutil::boolean;
using testutil::integer;
using testutil::missing;
using testutil::null;
using testutil::number;
using testutil::other;
using testutil::str;
using testutil::strViewing;

constexpr double kInf = std::numeric_limits<double>::infinity();

config::Expression parsed(std::string_view text) {
  config::ExpressionResult result = config::parseExpression(text);
  EXPECT_TRUE(result.expression.has_value())
      << text << ": " << (result.errors.empty() ? "" : result.errors.front().message);
  if (!result.expression) result = config::parseExpression("null");
  return std::move(*result.expression);
}

std::string show(const config::ExprValue& v) {
  switch (v.kind) {
    case config::ValueKind::kNull:
      return "null";
    case config::ValueKind::kNumber: {
      char text[32];
      std::snprintf(text, sizeof text, "%.17g", v.number);
      return text;
    }
    case config::ValueKind::kString:
      return "'" + std::string(v.text) + "'";
    case config::ValueKind::kBool:
      return v.boolean ? "true" : "false";
    case config::ValueKind::kError:
      return v.error == config::EvalError::kTooLarge ? "error too_large" : "error wrong_type";
  }
  return "?";
}

using Fields = std::vector<std::pair<std::string, config::FieldValue>>;

// Compiles `text` over an event with the given fields (by canonical path; others are missing),
// evaluates it and shows the result.
std::string eval(std::string_view text, const Fields& fields = {}, ExprType want = ExprType::kAny) {
  std::vector<config::FieldValue> values;
  for (const auto& field : fields) values.push_back(field.second);
  values.push_back(missing());  // where every field not given points
  config::CompiledExpression compiled(
      parsed(text),
      [&](const FieldPath& path) {
        for (std::size_t i = 0; i < fields.size(); ++i) {
          if (fields[i].first == path.toString()) return static_cast<int>(i);
        }
        return static_cast<int>(fields.size());
      },
      want);
  return show(compiled.evaluate(values.data()));
}

TEST(ExpressionEval, Literals) {
  EXPECT_EQ(eval("1"), "1");
  EXPECT_EQ(eval("2.5e2"), "250");
  EXPECT_EQ(eval("'it''s'"), "'it's'");
  EXPECT_EQ(eval("true"), "true");
  EXPECT_EQ(eval("FALSE"), "false");
  EXPECT_EQ(eval("null"), "null");
}

TEST(ExpressionEval, FieldsOfEveryType) {
  EXPECT_EQ(eval("a", {{"a", number(2.5)}}), "2.5");
  EXPECT_EQ(eval("a", {{"a", integer(-7)}}), "-7");
  EXPECT_EQ(eval("a", {{"a", str("buy")}}), "'buy'");
  EXPECT_EQ(eval("a", {{"a", boolean(true)}}), "true");
  EXPECT_EQ(eval("a", {{"a", boolean(false)}}), "false");
  EXPECT_EQ(eval("a", {{"a", null()}}), "null");
  EXPECT_EQ(eval("a", {}), "null");
  EXPECT_EQ(eval("a", {{"a", other()}}), "error wrong_type");
  EXPECT_EQ(eval("order.qty + `odd name`", {{"order.qty", number(2)}, {"`odd name`", number(3)}}),
            "5");
}

TEST(ExpressionEval, Arithmetic) {
  const Fields f = {{"a", number(7)}, {"b", integer(2)}};
  EXPECT_EQ(eval("a + b", f), "9");
  EXPECT_EQ(eval("a - b", f), "5");
  EXPECT_EQ(eval("a * b", f), "14");
  EXPECT_EQ(eval("a / b", f), "3.5");
  EXPECT_EQ(eval("-a", f), "-7");
  EXPECT_EQ(eval("- -a", f), "7");
  EXPECT_EQ(eval("a - b - 1", f), "4");
  EXPECT_EQ(eval("a - (b - 1)", f), "6");
  EXPECT_EQ(eval("a + b * 3", f), "13");
  EXPECT_EQ(eval("(a + b) * 3", f), "27");
  EXPECT_EQ(eval("0.1 + 0.2"), "0.30000000000000004");  // doubles, as IEEE says
  EXPECT_EQ(eval("1e308 * 10"), "inf");
  EXPECT_EQ(eval("-1e308 * 10"), "-inf");
}

TEST(ExpressionEval, DivisionByZeroAndNaNAreNull) {
  EXPECT_EQ(eval("a / 0", {{"a", number(1)}}), "null");
  EXPECT_EQ(eval("a / b", {{"a", number(0)}, {"b", number(-0.0)}}), "null");
  EXPECT_EQ(eval("1e308 * 10 - 1e308 * 10"), "null");  // inf - inf
  EXPECT_EQ(eval("(1e308 * 10) * 0"), "null");
  EXPECT_EQ(eval("1 / (1e308 * 10)"), "0");
}

TEST(ExpressionEval, NullPropagates) {
  for (const config::FieldValue& n : {null(), missing()}) {
    const Fields f = {{"a", number(3)}, {"n", n}, {"s", str("x")}};
    for (const char* text :
         {"a + n",    "n - a",          "a * n",     "n / a",     "-n",     "abs(n)",   "floor(n)",
          "ceil(n)",  "round(n)",       "min(a, n)", "max(n, a)", "len(n)", "lower(n)", "upper(n)",
          "a == n",   "n != a",         "n < a",     "a <= n",    "s > n",  "n >= s",   "not n",
          "n in [1]", "n not in ['x']", "null + 1"}) {
      EXPECT_EQ(eval(text, f), "null") << text;
    }
  }
}

TEST(ExpressionEval, WrongTypesAreErrors) {
  const Fields f = {
      {"n", number(1)}, {"s", str("x")}, {"t", boolean(true)}, {"o", other()}, {"z", null()}};
  for (const char* text :
       {"s + 1",       "1 - t",    "s * n",     "n / s",      "-s",           "-t",
        "abs(s)",      "floor(t)", "ceil(s)",   "round(t)",   "min(n, s)",    "max(t, n)",
        "len(n)",      "len(t)",   "lower(n)",  "upper(t)",   "not n",        "not s",
        "n and t",     "t or s",   "n == s",    "s != n",     "t == n",       "n < s",
        "t < t",       "s >= t",   "z < t",     "n in ['x']", "s not in [1]", "t in [1]",
        "n in [true]", "o",        "o is null", "o == 1",     "z + s",        "z and n",
        "n > 0 and s"}) {
    EXPECT_EQ(eval(text, f), "error wrong_type") << text;
  }
}

TEST(ExpressionEval, ErrorsAreStrictNotShortCircuited) {
  const Fields f = {{"s", str("x")}, {"t", boolean(true)}};
  EXPECT_EQ(eval("false and s + 1 > 0", f), "error wrong_type");
  EXPECT_EQ(eval("true or -s > 0", f), "error wrong_type");
  EXPECT_EQ(eval("t or s", f), "error wrong_type");
  EXPECT_EQ(eval("(s + 1) is null", f), "error wrong_type");
  EXPECT_EQ(eval("false and not s", f), "error wrong_type");
}

TEST(ExpressionEval, Comparisons) {
  const Fields f = {{"a", number(2)}, {"b", integer(3)}, {"s", str("abc")}, {"t", str("abd")}};
  const std::pair<const char*, const char*> cases[] = {
      {"a == 2", "true"},       {"a == b", "false"},       {"a != b", "true"},
      {"a != 2", "false"},      {"a < b", "true"},         {"b < a", "false"},
      {"a < a", "false"},       {"a <= a", "true"},        {"b <= a", "false"},
      {"b > a", "true"},        {"a > a", "false"},        {"a >= a", "true"},
      {"a >= b", "false"},      {"s == 'abc'", "true"},    {"s != 'abc'", "false"},
      {"s < t", "true"},        {"t < s", "false"},        {"s < 'abcd'", "true"},
      {"'' < s", "true"},       {"s <= s", "true"},        {"s > 'ab'", "true"},
      {"s >= t", "false"},      {"'B' < 'a'", "true"},     {"-0 == 0", "true"},
      {"true == true", "true"}, {"true != false", "true"}, {"(a < b) == true", "true"},
  };
  for (const auto& [text, result] : cases) EXPECT_EQ(eval(text, f), result) << text;
  // Bytewise, as unsigned bytes: "é" (0xC3 0xA9) sorts after every ASCII letter.
  EXPECT_EQ(eval("s < 'z'", {{"s", str("\xC3\xA9")}}), "false");
  EXPECT_EQ(eval("s > 'z'", {{"s", str("\xC3\xA9")}}), "true");
}

// Three-valued logic: every pair of true, false and null, through fields and through literals.
// `field <comparison> number` has a shortcut (no stack); `field <comparison> (number + 0)` takes
// the general path: the two must agree for every comparison and every kind of field, in every
// result type a caller may want.
TEST(ExpressionEval, FieldComparisonShortcutAgreesWithTheGeneralPath) {
  const char* ops[] = {"==", "!=", "<", "<=", ">", ">="};
  const std::pair<const char*, Fields> events[] = {
      {"less", {{"x", number(1.5)}}},  {"equal", {{"x", integer(2)}}},
      {"more", {{"x", number(2.25)}}}, {"negative", {{"x", number(-3)}}},
      {"string", {{"x", str("2")}}},   {"bool", {{"x", boolean(true)}}},
      {"null", {{"x", null()}}},       {"missing", {}},
      {"object", {{"x", other()}}},
  };
  std::size_t shortcuts = 0;
  for (const char* op : ops) {
    for (const auto& [name, fields] : events) {
      for (const ExprType want : {ExprType::kAny, ExprType::kBool}) {
        const std::string fast = std::string("x ") + op + " 2";
        const std::string slow = std::string("x ") + op + " (2 + 0)";
        EXPECT_EQ(eval(fast, fields, want), eval(slow, fields, want)) << fast << " on " << name;
        shortcuts += fields.size() == 1 && fields[0].second.type == config::FieldType::kNumber;
      }
    }
  }
  EXPECT_EQ(shortcuts, 6u * 4 * 2);
}

TEST(ExpressionEval, ThreeValuedTruthTables) {
  const std::pair<const char*, config::FieldValue> values[] = {
      {"true", boolean(true)}, {"false", boolean(false)}, {"null", null()}};
  // and[x][y], or[x][y], not[x] with x, y in {true, false, null}.
  const char* const kAnd[3][3] = {
      {"true", "false", "null"}, {"false", "false", "false"}, {"null", "false", "null"}};
  const char* const kOr[3][3] = {
      {"true", "true", "true"}, {"true", "false", "null"}, {"true", "null", "null"}};
  const char* const kNot[3] = {"false", "true", "null"};
  for (int x = 0; x < 3; ++x) {
    const Fields one = {{"x", values[x].second}};
    EXPECT_EQ(eval("not x", one), kNot[x]) << values[x].first;
    EXPECT_EQ(eval(std::string("not ") + values[x].first), kNot[x]) << values[x].first;
    for (int y = 0; y < 3; ++y) {
      const Fields two = {{"x", values[x].second}, {"y", values[y].second}};
      const std::string pair = std::string(values[x].first) + ", " + values[y].first;
      EXPECT_EQ(eval("x and y", two), kAnd[x][y]) << pair;
      EXPECT_EQ(eval("x or y", two), kOr[x][y]) << pair;
      EXPECT_EQ(eval(std::string(values[x].first) + " and " + values[y].first), kAnd[x][y]) << pair;
      EXPECT_EQ(eval(std::string(values[x].first) + " or " + values[y].first), kOr[x][y]) << pair;
    }
  }
}

TEST(ExpressionEval, IsNull) {
  EXPECT_EQ(eval("a is null", {}), "true");
  EXPECT_EQ(eval("a is null", {{"a", null()}}), "true");
  EXPECT_EQ(eval("a is null", {{"a", number(0)}}), "false");
  EXPECT_EQ(eval("a is not null", {{"a", str("")}}), "true");
  EXPECT_EQ(eval("a is not null", {{"a", null()}}), "false");
  EXPECT_EQ(eval("a / 0 is null", {{"a", number(1)}}), "true");
  EXPECT_EQ(eval("(a and true) is null", {{"a", null()}}), "true");
  EXPECT_EQ(eval("(a or true) is null", {{"a", null()}}), "false");
}

TEST(ExpressionEval, InLists) {
  EXPECT_EQ(eval("a in [1, 2.5, -3]", {{"a", number(-3)}}), "true");
  EXPECT_EQ(eval("a in [1, 2.5, -3]", {{"a", number(2)}}), "false");
  EXPECT_EQ(eval("a not in [1, 2.5, -3]", {{"a", number(2.5)}}), "false");
  EXPECT_EQ(eval("a not in [1, 2.5, -3]", {{"a", number(4)}}), "true");
  EXPECT_EQ(eval("a in ['buy', 'sell']", {{"a", str("sell")}}), "true");
  EXPECT_EQ(eval("a in ['buy', 'sell']", {{"a", str("SELL")}}), "false");
  EXPECT_EQ(eval("lower(a) in ['buy', 'sell']", {{"a", str("SELL")}}), "true");
  EXPECT_EQ(eval("a in ['']", {{"a", str("")}}), "true");
  EXPECT_EQ(eval("a in [true]", {{"a", boolean(true)}}), "true");
  EXPECT_EQ(eval("a in [true]", {{"a", boolean(false)}}), "false");
  EXPECT_EQ(eval("a not in [false]", {{"a", boolean(true)}}), "true");
  EXPECT_EQ(eval("a + 1 in [3]", {{"a", integer(2)}}), "true");
}

TEST(ExpressionEval, NumberFunctions) {
  const std::pair<const char*, const char*> cases[] = {
      {"abs(-2.5)", "2.5"},  {"abs(3)", "3"},         {"floor(2.7)", "2"},
      {"floor(-2.2)", "-3"}, {"ceil(2.2)", "3"},      {"ceil(-2.7)", "-2"},
      {"round(2.5)", "3"},   {"round(-2.5)", "-3"},   {"round(2.49)", "2"},
      {"min(1, 2)", "1"},    {"min(2, -1)", "-1"},    {"max(1, 2)", "2"},
      {"max(2, -1)", "2"},   {"floor(17 / 10)", "1"}, {"abs(1e308 * -10)", "inf"},
  };
  for (const auto& [text, result] : cases) EXPECT_EQ(eval(text), result) << text;
  EXPECT_EQ(eval("floor(price / 10) * 10", {{"price", number(187.23)}}), "180");
}

TEST(ExpressionEval, StringFunctions) {
  const Fields f = {{"s", str("MiXed 9_Z\xC3\x89t\xC3\xA9")}};     // "MiXed 9_ZÉté"
  EXPECT_EQ(eval("lower(s)", f), "'mixed 9_z\xC3\x89t\xC3\xA9'");  // ASCII letters only
  EXPECT_EQ(eval("upper(s)", f), "'MIXED 9_Z\xC3\x89T\xC3\xA9'");
  EXPECT_EQ(eval("len(s)", f), "12");  // code points, not the 14 bytes
  EXPECT_EQ(eval("len('')"), "0");
  EXPECT_EQ(eval("lower('')"), "''");
  EXPECT_EQ(eval("upper(lower(s)) == upper(s)", f), "true");
  EXPECT_EQ(eval("lower(s) == upper(s)", f), "false");
  EXPECT_EQ(eval("len(upper(s)) + 1", f), "13");
}

TEST(ExpressionEval, StringFunctionScratchLimit) {
  const std::string fits(config::kMaxFunctionString, 'A');
  const std::string too_long(config::kMaxFunctionString + 1, 'A');
  EXPECT_EQ(eval("lower(s)", {{"s", str(fits)}}),
            "'" + std::string(config::kMaxFunctionString, 'a') + "'");
  EXPECT_EQ(eval("lower(s)", {{"s", str(too_long)}}), "error too_large");
  EXPECT_EQ(eval("upper(s) is null", {{"s", str(too_long)}}), "error too_large");
  EXPECT_EQ(eval("len(s)", {{"s", str(too_long)}}), "4097");  // len() needs no scratch
  // Each call has its own slice: two full-size results live side by side.
  EXPECT_EQ(eval("lower(a) == lower(upper(b))", {{"a", str(fits)}, {"b", str(fits)}}), "true");
  EXPECT_EQ(eval("len(lower(a)) + len(upper(b))", {{"a", str(fits)}, {"b", str(fits)}}), "8192");

  config::CompiledExpression compiled(parsed("lower(a) == upper(lower(b)) or len(a) > 1"),
                                      [](const FieldPath&) { return 0; });
  EXPECT_EQ(compiled.scratchSize(), 3 * config::kMaxFunctionString);
  config::CompiledExpression plain(parsed("a + 1"), [](const FieldPath&) { return 0; });
  EXPECT_EQ(plain.scratchSize(), 0u);
}

TEST(ExpressionEval, StringResultsPointIntoTheEventOrTheScratch) {
  const std::string text = "Buy";
  const config::FieldValue fields[] = {strViewing(text)};
  config::CompiledExpression bare(parsed("s"), [](const FieldPath&) { return 0; });
  EXPECT_EQ(bare.evaluate(fields).text.data(), text.data());
  config::CompiledExpression lowered(parsed("lower(s)"), [](const FieldPath&) { return 0; });
  const config::ExprValue v = lowered.evaluate(fields);
  EXPECT_EQ(v.text, "buy");
  EXPECT_NE(v.text.data(), text.data());
  EXPECT_EQ(text, "Buy");  // the event is not written to
}

TEST(ExpressionEval, ResultTypeTheCallerWants) {
  EXPECT_EQ(eval("a", {{"a", boolean(true)}}, ExprType::kBool), "true");
  EXPECT_EQ(eval("a", {{"a", number(1)}}, ExprType::kBool), "error wrong_type");
  EXPECT_EQ(eval("a", {{"a", null()}}, ExprType::kBool), "null");
  EXPECT_EQ(eval("a > 1", {{"a", number(2)}}, ExprType::kBool), "true");
  EXPECT_EQ(eval("a * 2", {{"a", number(2)}}, ExprType::kNumber), "4");
  EXPECT_EQ(eval("a", {{"a", str("2")}}, ExprType::kNumber), "error wrong_type");
  EXPECT_EQ(eval("a", {{"a", str("2")}}, ExprType::kString), "'2'");
  EXPECT_EQ(eval("a", {{"a", boolean(false)}}, ExprType::kAny), "false");

  EXPECT_TRUE(config::isTrue(
      config::ExprValue{config::ValueKind::kBool, true, config::EvalError::kNone, 0, {}}));
  EXPECT_FALSE(config::isTrue(
      config::ExprValue{config::ValueKind::kBool, false, config::EvalError::kNone, 0, {}}));
  EXPECT_FALSE(config::isTrue(config::ExprValue{}));
  EXPECT_FALSE(config::isTrue(
      config::ExprValue{config::ValueKind::kNumber, true, config::EvalError::kNone, 1, {}}));
}

TEST(ExpressionEval, FieldReferences) {
  const auto index = [](const FieldPath& path) { return path.toString() == "b" ? 4 : 2; };
  config::CompiledExpression bare(parsed("(b)"), index);
  EXPECT_TRUE(bare.isFieldReference());
  EXPECT_EQ(bare.fieldIndex(), 4);
  config::CompiledExpression sum(parsed("a + b"), index);
  EXPECT_FALSE(sum.isFieldReference());
  EXPECT_EQ(sum.fieldIndex(), -1);
  const config::FieldValue fields[] = {missing(), missing(), number(1), missing(), number(10)};
  EXPECT_EQ(show(sum.evaluate(fields)), "11");

  // A field the source never has is always missing, not a field to read.
  config::CompiledExpression absent(parsed("x"), [](const FieldPath&) { return -1; });
  EXPECT_FALSE(absent.isFieldReference());
  EXPECT_EQ(show(absent.evaluate(nullptr)), "null");
  config::CompiledExpression absent_sum(parsed("x + 1 is null"),
                                        [](const FieldPath&) { return -1; });
  EXPECT_EQ(show(absent_sum.evaluate(nullptr)), "true");
}

TEST(ExpressionEval, StackSizeIsTheDeepestPoint) {
  const auto index = [](const FieldPath&) { return 0; };
  EXPECT_EQ(config::CompiledExpression(parsed("a"), index).stackSize(), 1u);
  EXPECT_EQ(config::CompiledExpression(parsed("((a + b) + c) + d"), index).stackSize(), 2u);
  EXPECT_EQ(config::CompiledExpression(parsed("a + (b + (c + d))"), index).stackSize(), 4u);
  EXPECT_EQ(config::CompiledExpression(parsed("min(a, max(b, abs(c)))"), index).stackSize(), 3u);
  EXPECT_EQ(config::CompiledExpression(parsed("a in [1, 2, 3, 4]"), index).stackSize(), 1u);
}

TEST(ExpressionEval, EvaluationDoesNotAllocate) {
  config::CompiledExpression e(
      parsed("lower(s) in ['buy', 'sell'] and (qty * price >= 100 or not flag) and len(upper(s)) "
             "< 10 and x is null"),
      [](const FieldPath& path) {
        const std::string p = path.toString();
        return p == "s" ? 0 : p == "qty" ? 1 : p == "price" ? 2 : p == "flag" ? 3 : 4;
      },
      ExprType::kBool);
  const config::FieldValue fields[] = {str("BUY"), integer(10), number(12.5), boolean(true),
                                       null()};
  const std::size_t before = testutil::allocations.load();
  config::ExprValue v;
  for (int i = 0; i < 1000; ++i) v = e.evaluate(fields);
  const std::size_t after = testutil::allocations.load();
  EXPECT_EQ(after - before, 0);
  EXPECT_EQ(show(v), "true");
  // The counter does count: compiling allocates.
  config::CompiledExpression other(parsed("a"), [](const FieldPath&) { return 0; });
  EXPECT_GT(testutil::allocations.load(), after);
}

// The JSON parser's FieldValues (numbers, strings with escapes, bools, null, missing, objects)
// are what the evaluator reads.
TEST(ExpressionEval, OverTheJsonParsersFields) {
  connectors::JsonEventParser parser({"qty", "side", "dark", "venue", "absent", "meta"});
  std::vector<config::FieldValue> fields(6);
  ASSERT_EQ(
      parser.parseCopy(R"({"qty":150,"side":"b\u0075y","dark":false,"venue":null,"meta":{"a":1}})",
                       fields),
      ErrorReason::kNone);
  const auto index = [](const FieldPath& path) {
    const std::string names[] = {"qty", "side", "dark", "venue", "absent", "meta"};
    return static_cast<int>(std::find(std::begin(names), std::end(names), path.toString()) -
                            std::begin(names));
  };
  const auto run = [&](std::string_view text) {
    config::CompiledExpression e(parsed(text), index);
    return show(e.evaluate(fields.data()));
  };
  EXPECT_EQ(run("side == 'buy' and qty >= 100 and not dark"), "true");
  EXPECT_EQ(run("dark or qty > 200"), "false");
  EXPECT_EQ(run("venue is null and absent is null"), "true");
  EXPECT_EQ(run("venue != 'DARK'"), "null");
  EXPECT_EQ(run("qty / 4"), "37.5");
  EXPECT_EQ(run("meta is null"), "error wrong_type");
}

// ---- property test: random expressions against a simple reference interpreter ----

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

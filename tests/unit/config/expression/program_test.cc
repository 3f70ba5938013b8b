// CompiledExpression: every operator and function over FieldValues, null and error semantics,
// three-valued logic, `in` lists, the string functions' scratch limit, the result type a caller
// asks for, and no allocation while evaluating.
#include "config/expression/program.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/expression/expression.h"
#include "connectors/formats/json_event_parser.h"
#include "tests/support/field_values.h"
#include "tests/unit/config/expression/eval_support.h"
#include "tests/unit/pipeline/allocation_counter.h"

namespace rivulet::pipeline {
namespace {

using config::ExprType;
using config::FieldPath;
using namespace testutil;

config::Expression parsed(std::string_view text) {
  config::ExpressionResult result = config::parseExpression(text);
  EXPECT_TRUE(result.expression.has_value())
      << text << ": " << (result.errors.empty() ? "" : result.errors.front().message);
  if (!result.expression) result = config::parseExpression("null");
  return std::move(*result.expression);
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

// filterInline() decides `field <op> number` over a number as evaluate() does, and leaves every
// other case (other field types, other programs) to it.
TEST(ExpressionEval, InlineFilterAgreesWithEvaluate) {
  const std::vector<config::FieldValue> values = {
      number(2), number(-1.5), number(0), str("2"), null(), missing(), number(2.0000001)};
  for (const char* op : {"==", "!=", "<", "<=", ">", ">="}) {
    // A negative literal is a negation, not a constant: evaluate() decides it.
    for (const char* constant : {"2", "1.5", "0", "-1.5"}) {
      const std::string text = std::string("x ") + op + " " + constant;
      for (const config::FieldValue& value : values) {
        config::CompiledExpression compiled(
            parsed(text), [](const FieldPath&) { return 0; }, ExprType::kBool);
        bool keep = false;
        const bool decided = compiled.filterInline(&value, keep);
        EXPECT_EQ(decided, value.type == config::FieldType::kNumber && constant[0] != '-') << text;
        if (decided) {
          EXPECT_EQ(show(compiled.evaluate(&value)), keep ? "true" : "false") << text;
        }
      }
    }
  }
  for (const char* other : {"x + 1 > 2", "x == 'a'", "2 == x", "x"}) {
    config::CompiledExpression compiled(parsed(other), [](const FieldPath&) { return 0; });
    const config::FieldValue two = number(2);
    bool keep = false;
    EXPECT_FALSE(compiled.filterInline(&two, keep)) << other;
  }
}

}  // namespace
}  // namespace rivulet::pipeline

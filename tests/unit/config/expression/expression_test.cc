// The expression language's parser and static checker: precedence (through the canonical printed
// form), literals and field paths, static types, and every syntax and static error with its offset
// and message.
#include "config/expression/expression.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace rivulet::config {
namespace {

// The canonical form of a valid expression.
std::string canonical(std::string_view text) {
  const ExpressionResult result = parseExpression(text);
  EXPECT_TRUE(result.errors.empty()) << text << ": " << result.errors.front().message;
  return result.expression ? result.expression->toString() : "<invalid>";
}

Expression valid(std::string_view text) {
  ExpressionResult result = parseExpression(text);
  EXPECT_TRUE(result.expression.has_value()) << text << ": " << result.errors.front().message;
  if (!result.expression) result = parseExpression("0");
  return std::move(*result.expression);
}

// The errors of an invalid expression, each as "offset: message".
std::vector<std::string> errorsOf(std::string_view text) {
  const ExpressionResult result = parseExpression(text);
  EXPECT_FALSE(result.expression.has_value()) << text;
  std::vector<std::string> lines;
  for (const ExprError& e : result.errors)
    lines.push_back(std::to_string(e.offset) + ": " + e.message);
  return lines;
}

// The one error of an invalid expression.
std::string errorOf(std::string_view text) {
  const std::vector<std::string> errors = errorsOf(text);
  EXPECT_EQ(errors.size(), 1u) << text;
  return errors.empty() ? "<none>" : errors.front();
}

TEST(ExpressionParse, Precedence) {
  EXPECT_EQ(canonical("a + b * c"), canonical("(a + (b * c))"));
  EXPECT_EQ(canonical("a * b + c"), canonical("((a * b) + c)"));
  EXPECT_EQ(canonical("a - b - c"), canonical("((a - b) - c)"));
  EXPECT_EQ(canonical("a / b * c"), canonical("((a / b) * c)"));
  EXPECT_EQ(canonical("a - b + c"), canonical("((a - b) + c)"));
  EXPECT_EQ(canonical("-a * b"), canonical("((-a) * b)"));
  EXPECT_EQ(canonical("a * -b"), canonical("(a * (-b))"));
  EXPECT_EQ(canonical("- -a"), canonical("(-(-a))"));
  EXPECT_EQ(canonical("a + b > c * d"), canonical("((a + b) > (c * d))"));
  EXPECT_EQ(canonical("a < b == c"), canonical("((a < b) == c)"));
  EXPECT_EQ(canonical("a == b != c"), canonical("((a == b) != c)"));
  EXPECT_EQ(canonical("not a == b"), canonical("(not (a == b))"));
  EXPECT_EQ(canonical("not not a"), canonical("(not (not a))"));
  EXPECT_EQ(canonical("not a and b"), canonical("((not a) and b)"));
  EXPECT_EQ(canonical("a and b or c and d"), canonical("((a and b) or (c and d))"));
  EXPECT_EQ(canonical("a or b and c"), canonical("(a or (b and c))"));
  EXPECT_EQ(canonical("a or b or c"), canonical("((a or b) or c)"));
  EXPECT_EQ(canonical("a and b and c"), canonical("((a and b) and c)"));
  EXPECT_EQ(canonical("(a + b) * c"), canonical("((a + b) * c)"));
  EXPECT_EQ(canonical("a - (b - c)"), canonical("(a - (b - c))"));
  EXPECT_EQ(canonical("((a))"), "a");
  EXPECT_EQ(canonical("not (a or b)"), canonical("(not (a or b))"));
  EXPECT_EQ(canonical("side == 'buy' and qty >= 100"),
            canonical("((side == 'buy') and (qty >= 100))"));
  EXPECT_EQ(canonical("a <= b or a >= c and a < d"),
            canonical("((a <= b) or ((a >= c) and (a < d)))"));
  // The canonical form keeps only the parentheses the grammar needs.
  EXPECT_EQ(canonical("((a + b) + c)"), "a + b + c");
  EXPECT_EQ(canonical("(a + b) * c"), "(a + b) * c");
  EXPECT_EQ(canonical("a - (b - c)"), "a - (b - c)");
  EXPECT_EQ(canonical("(-a) * (b)"), "-a * b");
  EXPECT_EQ(canonical("-(-a)"), "--a");
  EXPECT_EQ(canonical("-(a + b)"), "-(a + b)");
  EXPECT_EQ(canonical("not (not a)"), "not not a");
  EXPECT_EQ(canonical("(not a) == b"), "(not a) == b");
  EXPECT_EQ(canonical("(a or b) and c"), "(a or b) and c");
  EXPECT_EQ(canonical("a == (b == c)"), "a == (b == c)");
  EXPECT_EQ(canonical("(a in [1]) is null"), "a in [1] is null");
  EXPECT_EQ(canonical("min((a + b), c)"), "min(a + b, c)");
}

// The canonical form parses again to itself, however the text nests: no deeper than the text it
// came from. (Found by the expression fuzzer: fully parenthesised, a long chain of operators or
// unary minuses printed deeper than the parser's limit.)
TEST(ExpressionParse, CanonicalFormParsesAgain) {
  std::string chain = "a";
  for (int i = 0; i < 2000; ++i) chain += i % 2 ? " - a" : " * -a";
  std::string right_nested = "a";
  for (int i = 0; i < 60; ++i) right_nested = "a - (" + right_nested + ")";
  for (const std::string& text : {std::string("si-99-si-99") + std::string(9, '-') + "\r" +
                                      std::string(17, '-') + "\r" + std::string(9, '-') + "999999",
                                  chain, std::string(64, '-') + "a", right_nested,
                                  std::string(63, '(') + "a" + std::string(63, ')'),
                                  std::string("not not not a is null or b and not c in [1]")}) {
    const std::string once = canonical(text);
    EXPECT_EQ(canonical(once), once);
  }
}

TEST(ExpressionParse, InAndIsNull) {
  EXPECT_EQ(canonical("x in [1, 2.5, -3]"), canonical("(x in [1, 2.5, -3])"));
  EXPECT_EQ(canonical("x not in ['a','b']"), canonical("(x not in ['a', 'b'])"));
  EXPECT_EQ(canonical("x in [true]"), canonical("(x in [true])"));
  EXPECT_EQ(canonical("x + 1 in [2]"), canonical("((x + 1) in [2])"));
  EXPECT_EQ(canonical("not x in [2] and y"), canonical("((not (x in [2])) and y)"));
  EXPECT_EQ(canonical("x is null"), canonical("(x is null)"));
  EXPECT_EQ(canonical("x is not null or y"), canonical("((x is not null) or y)"));
  EXPECT_EQ(canonical("x * 2 is null"), canonical("((x * 2) is null)"));
  EXPECT_EQ(canonical("not x is null"), canonical("(not (x is null))"));
  EXPECT_EQ(canonical("x is null == y"), canonical("((x is null) == y)"));
}

TEST(ExpressionParse, Calls) {
  EXPECT_EQ(canonical("abs(x)"), "abs(x)");
  EXPECT_EQ(canonical("floor(price / 10)"), "floor(price / 10)");
  EXPECT_EQ(canonical("ceil(x) + round(y)"), "ceil(x) + round(y)");
  EXPECT_EQ(canonical("lower(upper(s))"), "lower(upper(s))");
  EXPECT_EQ(canonical("len( s ) > 3"), "len(s) > 3");
  EXPECT_EQ(canonical("min(a, b) * max(a,-b)"), "min(a, b) * max(a, -b)");
  EXPECT_EQ(canonical("ABS(x) + Floor(y)"), "abs(x) + floor(y)");
  // A name not followed by "(" is a field, also when it is a function's name.
  EXPECT_EQ(canonical("abs + len"), "abs + len");
}

TEST(ExpressionParse, KeywordsAreCaseInsensitive) {
  EXPECT_EQ(canonical("a AND b OR NOT c"), "a and b or not c");
  EXPECT_EQ(canonical("x IS NOT NULL and y Not In [1]"), "x is not null and y not in [1]");
  EXPECT_EQ(canonical("x == TRUE or y == False"), "x == true or y == false");
  EXPECT_EQ(canonical("NULL"), "null");
}

TEST(ExpressionParse, Literals) {
  EXPECT_EQ(canonical("1 + 2.5 + 1e3 + 1.5E-3 + 2e+2 + 0"), "1 + 2.5 + 1e3 + 1.5E-3 + 2e+2 + 0");
  EXPECT_EQ(canonical("'it''s'"), "'it''s'");
  EXPECT_EQ(canonical("''"), "''");
  EXPECT_EQ(canonical("'a \"b\" \\n'"), "'a \"b\" \\n'");
  EXPECT_EQ(canonical("true"), "true");
  EXPECT_EQ(canonical("false"), "false");

  const Expression number = valid("1.5E-3");
  ASSERT_EQ(number.root().op, ExprOp::kLiteral);
  EXPECT_EQ(number.root().literal.type, ExprType::kNumber);
  EXPECT_DOUBLE_EQ(number.root().literal.number, 0.0015);
  EXPECT_EQ(valid("12345678901234567890").root().literal.number, 12345678901234567890.0);

  const Expression string = valid("'O''Brien'");
  EXPECT_EQ(string.root().literal.type, ExprType::kString);
  EXPECT_EQ(string.root().literal.text, "O'Brien");
  // A backslash is an ordinary character.
  EXPECT_EQ(valid("'a\\b'").root().literal.text, "a\\b");

  const Expression list = valid("x in [-2, 0.5]");
  ASSERT_EQ(list.root().list.size(), 2u);
  EXPECT_EQ(list.root().list[0].number, -2);
  EXPECT_EQ(list.root().list[1].number, 0.5);
  EXPECT_EQ(list.root().list[1].begin, 10u);
  EXPECT_EQ(list.root().list[1].end, 13u);

  EXPECT_TRUE(valid("TRUE").root().literal.boolean);
  EXPECT_FALSE(valid("false").root().literal.boolean);
  EXPECT_EQ(valid("null").root().literal.type, ExprType::kNull);
}

TEST(ExpressionParse, Whitespace) {
  EXPECT_EQ(canonical(" \t a\n+\r\nb  "), "a + b");
  EXPECT_EQ(canonical("a+b*c"), "a + b * c");
  EXPECT_EQ(errorOf("a>=1and b"), "3: malformed number \"1and\"");  // no blank, no boundary
}

TEST(ExpressionParse, FieldPaths) {
  EXPECT_EQ(canonical("order.qty"), "order.qty");
  EXPECT_EQ(canonical("a.b.c + 1"), "a.b.c + 1");
  EXPECT_EQ(canonical("`odd name`.x"), "`odd name`.x");
  EXPECT_EQ(canonical("`a``b`"), "`a``b`");
  EXPECT_EQ(canonical("`plain`"), "plain");
  EXPECT_EQ(canonical("`null` is null"), "`null` is null");
  EXPECT_EQ(canonical("`AND`"), "`AND`");
  EXPECT_EQ(canonical("order.in + order.NULL"), "order.in + order.NULL");
  EXPECT_EQ(canonical("`a.b`"), "`a.b`");
  EXPECT_EQ(canonical("x.`y z`.`1`"), "x.`y z`.`1`");

  const Expression dotted = valid("`a.b` + a.b");
  ASSERT_EQ(dotted.fields().size(), 2u);
  EXPECT_EQ(dotted.fields()[0].segments, (std::vector<std::string>{"a.b"}));
  EXPECT_EQ(dotted.fields()[1].segments, (std::vector<std::string>{"a", "b"}));
}

TEST(ExpressionParse, DistinctFieldsInOrderOfAppearance) {
  const Expression e = valid("price * qty + price > order.qty and side == 'buy' or qty < 0");
  std::vector<std::string> fields;
  for (const FieldPath& f : e.fields()) fields.push_back(f.toString());
  EXPECT_EQ(fields, (std::vector<std::string>{"price", "qty", "order.qty", "side"}));
  std::vector<std::uint32_t> referenced;
  for (const ExprNode& node : e.nodes()) {
    if (node.op == ExprOp::kField) referenced.push_back(node.field);
  }
  EXPECT_EQ(referenced, (std::vector<std::uint32_t>{0, 1, 0, 2, 3, 1}));
  EXPECT_TRUE(valid("1 + 2").fields().empty());
}

TEST(ExpressionParse, NodesArePostorderWithSpans) {
  const Expression e = valid("(a + 1) * abs(b)");
  ASSERT_EQ(e.nodes().size(), 6u);
  const std::vector<ExprOp> ops = {ExprOp::kField, ExprOp::kLiteral, ExprOp::kAdd,
                                   ExprOp::kField, ExprOp::kCall,    ExprOp::kMultiply};
  for (std::size_t i = 0; i < ops.size(); ++i) EXPECT_EQ(e.nodes()[i].op, ops[i]) << i;
  EXPECT_EQ(e.nodes()[2].args, (std::vector<std::uint32_t>{0, 1}));
  EXPECT_EQ(e.nodes()[4].args, (std::vector<std::uint32_t>{3}));
  EXPECT_EQ(e.nodes()[5].args, (std::vector<std::uint32_t>{2, 4}));
  // Spans: the parenthesised sum includes its parentheses; `at` is the operator.
  EXPECT_EQ(e.nodes()[2].begin, 0u);
  EXPECT_EQ(e.nodes()[2].end, 7u);
  EXPECT_EQ(e.nodes()[2].at, 3u);
  EXPECT_EQ(e.nodes()[4].begin, 10u);
  EXPECT_EQ(e.nodes()[4].end, 16u);
  EXPECT_EQ(e.nodes()[4].function, ExprFunction::kAbs);
  EXPECT_EQ(e.root().begin, 0u);
  EXPECT_EQ(e.root().end, 16u);
  EXPECT_EQ(e.root().at, 8u);
}

TEST(ExpressionParse, StaticTypes) {
  EXPECT_EQ(valid("x").type(), ExprType::kAny);
  EXPECT_EQ(valid("null").type(), ExprType::kNull);
  EXPECT_EQ(valid("1").type(), ExprType::kNumber);
  EXPECT_EQ(valid("'a'").type(), ExprType::kString);
  EXPECT_EQ(valid("true").type(), ExprType::kBool);
  EXPECT_EQ(valid("x + 1").type(), ExprType::kNumber);
  EXPECT_EQ(valid("-x").type(), ExprType::kNumber);
  EXPECT_EQ(valid("x == 1").type(), ExprType::kBool);
  EXPECT_EQ(valid("not x").type(), ExprType::kBool);
  EXPECT_EQ(valid("x in [1]").type(), ExprType::kBool);
  EXPECT_EQ(valid("x is null").type(), ExprType::kBool);
  EXPECT_EQ(valid("lower(x)").type(), ExprType::kString);
  EXPECT_EQ(valid("len(x)").type(), ExprType::kNumber);
  EXPECT_EQ(valid("max(x, 1)").type(), ExprType::kNumber);
  EXPECT_EQ(typeName(ExprType::kAny), "any");
  EXPECT_EQ(functionName(ExprFunction::kLen), "len");
}

TEST(ExpressionParse, FieldReference) {
  EXPECT_TRUE(valid("qty").isFieldReference());
  EXPECT_TRUE(valid("(order.qty)").isFieldReference());
  EXPECT_FALSE(valid("qty + 0").isFieldReference());
  EXPECT_FALSE(valid("'qty'").isFieldReference());
  EXPECT_FALSE(valid("abs(qty)").isFieldReference());
}

TEST(ExpressionParse, NullsOfAnyTypeAreAccepted) {
  // A null operand is always possible at run time: it is never a static error (but comparing
  // with the null literal is, see below).
  EXPECT_EQ(canonical("null + 1"), "null + 1");
  EXPECT_EQ(canonical("not null"), "not null");
  EXPECT_EQ(canonical("abs(null) + len(null)"), "abs(null) + len(null)");
  EXPECT_EQ(canonical("null and true"), "null and true");
  EXPECT_EQ(canonical("null is null"), "null is null");
}

TEST(ExpressionSyntaxErrors, EmptyAndTrailing) {
  EXPECT_EQ(errorOf(""), "0: empty expression");
  EXPECT_EQ(errorOf("   "), "0: empty expression");
  EXPECT_EQ(errorOf("a b"), "2: expected an operator or the end, got \"b\"");
  EXPECT_EQ(errorOf("a + 1 2"), "6: expected an operator or the end, got \"2\"");
  EXPECT_EQ(errorOf("a 'x'"), "2: expected an operator or the end, got \"'x'\"");
  EXPECT_EQ(errorOf("(a)(b)"), "3: expected an operator or the end, got \"(\"");
  EXPECT_EQ(errorOf("a not b"), "6: expected \"in\" after \"not\", got \"b\"");
  EXPECT_EQ(errorOf("a ,"), "2: expected an operator or the end, got \",\"");
}

TEST(ExpressionSyntaxErrors, MissingOperands) {
  EXPECT_EQ(errorOf("a +"), "3: expected a value, got the end");
  EXPECT_EQ(errorOf("* a"), "0: expected a value, got \"*\"");
  EXPECT_EQ(errorOf("a and or b"), "6: expected a value, got \"or\"");
  EXPECT_EQ(errorOf("not"), "3: expected a value, got the end");
  EXPECT_EQ(errorOf("x in"), "4: expected \"[\" after \"in\", got the end");
  EXPECT_EQ(errorOf("x in ('a')"), "5: expected \"[\" after \"in\", got \"(\"");
  EXPECT_EQ(errorOf("x not in 1"), "9: expected \"[\" after \"not in\", got \"1\"");
  EXPECT_EQ(errorOf("x is"), "4: expected null after \"is\", got the end");
  EXPECT_EQ(errorOf("x is not 3"), "9: expected null after \"is not\", got \"3\"");
  EXPECT_EQ(errorOf("x is true"), "5: expected null after \"is\", got \"true\"");
  EXPECT_EQ(errorOf("in"), "0: expected a value, got \"in\"");
}

TEST(ExpressionSyntaxErrors, Parentheses) {
  EXPECT_EQ(errorOf("(a + 1"), "6: expected \")\" to close \"(\" at 0, got the end");
  EXPECT_EQ(errorOf("((a + 1)"), "8: expected \")\" to close \"(\" at 0, got the end");
  EXPECT_EQ(errorOf("(a b)"), "3: expected \")\" to close \"(\" at 0, got \"b\"");
  EXPECT_EQ(errorOf("a + 1)"), "5: unmatched \")\"");
  EXPECT_EQ(errorOf("(a))"), "3: unmatched \")\"");
  EXPECT_EQ(errorOf("()"), "1: expected a value, got \")\"");
  EXPECT_EQ(errorOf("abs(x"), "5: expected \",\" or \")\", got the end");
  EXPECT_EQ(errorOf("abs(x y)"), "6: expected \",\" or \")\", got \"y\"");
  EXPECT_EQ(errorOf("abs(x,)"), "6: expected a value, got \")\"");
}

TEST(ExpressionSyntaxErrors, Lists) {
  EXPECT_EQ(errorOf("x in []"), "6: expected a literal (number, string, true or false), got \"]\"");
  EXPECT_EQ(errorOf("x in [y]"),
            "6: expected a literal (number, string, true or false), got \"y\"");
  EXPECT_EQ(errorOf("x in [1 + 2]"), "8: expected \",\" or \"]\", got \"+\"");
  EXPECT_EQ(errorOf("x in [1, 2"), "10: expected \",\" or \"]\", got the end");
  EXPECT_EQ(errorOf("x in [1,]"),
            "8: expected a literal (number, string, true or false), got \"]\"");
  EXPECT_EQ(errorOf("x in [-'a']"),
            "6: expected a literal (number, string, true or false), got \"-\"");
}

TEST(ExpressionSyntaxErrors, FieldPaths) {
  EXPECT_EQ(errorOf("a."), "2: expected a field name after \".\", got the end");
  EXPECT_EQ(errorOf("a.1"), "2: expected a field name after \".\", got \"1\"");
  EXPECT_EQ(errorOf("a..b"), "2: expected a field name after \".\", got \".\"");
  EXPECT_EQ(errorOf("`a"), "0: unterminated name `a");
  EXPECT_EQ(errorOf("a + ``"), "4: empty field name ``");
  EXPECT_EQ(errorOf(".5"), "0: expected a value, got \".\"");
}

TEST(ExpressionSyntaxErrors, Lexical) {
  EXPECT_EQ(errorOf("side == 'buy"), "8: unterminated string 'buy");
  EXPECT_EQ(errorOf("'it''s"), "0: unterminated string 'it''s");
  EXPECT_EQ(errorOf("s == '" + std::string(50, 'x')),
            "5: unterminated string '" + std::string(39, 'x') + "...");
  EXPECT_EQ(errorOf("a = 1"), "2: unexpected \"=\" (did you mean \"==\"?)");
  EXPECT_EQ(errorOf("!a"), "0: unexpected \"!\" (use not)");
  EXPECT_EQ(errorOf("a && b"), "2: unexpected \"&&\" (use and)");
  EXPECT_EQ(errorOf("a & b"), "2: unexpected \"&\" (use and)");
  EXPECT_EQ(errorOf("a || b"), "2: unexpected \"||\" (use or)");
  EXPECT_EQ(errorOf("s == \"buy\""),
            "5: unexpected \"\\\"\" (strings are in single quotes: 'text')");
  EXPECT_EQ(errorOf("a % 2"), "2: unexpected character \"%\"");
  EXPECT_EQ(errorOf("a \xC3\xA9"), "2: unexpected character \"\xC3\xA9\"");
  EXPECT_EQ(errorOf("1.5.3"), "0: malformed number \"1.5.3\"");
  EXPECT_EQ(errorOf("x > 12abc"), "4: malformed number \"12abc\"");
  EXPECT_EQ(errorOf("1e"), "0: malformed number \"1e\"");
  EXPECT_EQ(errorOf("1e+"), "0: malformed number \"1e+\"");
  EXPECT_EQ(errorOf("3."), "0: malformed number \"3.\"");
  EXPECT_EQ(errorOf("x < 1e999"), "4: number 1e999 is out of range");
}

TEST(ExpressionSyntaxErrors, TheFirstErrorWins) {
  // The syntax error at 2 comes before the lexical one at 4.
  EXPECT_EQ(errorOf("a b 'c"), "2: expected an operator or the end, got \"b\"");
  EXPECT_EQ(errorOf("a 'c"), "2: unterminated string 'c");
  // A syntax error stops before any static check.
  EXPECT_EQ(errorOf("'a' + 1 +"), "9: expected a value, got the end");
}

TEST(ExpressionSyntaxErrors, NestingDepth) {
  const std::string ok = std::string(64, '(') + "a" + std::string(64, ')');
  EXPECT_EQ(canonical(ok), "a");
  EXPECT_EQ(errorOf(std::string(65, '(') + "a" + std::string(65, ')')),
            "64: expression nested too deeply (more than 64 levels)");
  EXPECT_EQ(errorOf(std::string(100, '-') + "a"),
            "64: expression nested too deeply (more than 64 levels)");
  std::string not_chain;
  for (int i = 0; i < 70; ++i) not_chain += "not ";
  EXPECT_EQ(errorOf(not_chain + "a"), "256: expression nested too deeply (more than 64 levels)");
  std::string calls;
  for (int i = 0; i < 70; ++i) calls += "abs(";
  EXPECT_EQ(errorOf(calls + "a" + std::string(70, ')')),
            "256: expression nested too deeply (more than 64 levels)");
  // Long left-associative chains are not nesting.
  std::string chain = "a";
  for (int i = 0; i < 2000; ++i) chain += " + a";
  const Expression long_chain = valid(chain);
  EXPECT_EQ(long_chain.nodes().size(), 4001u);
  EXPECT_EQ(long_chain.toString().size(), 2001u + 2000u * 3);  // each + adds " + "
}

TEST(ExpressionSyntaxErrors, Length) {
  std::string text = "a";
  while (text.size() + 4 <= 65536) text += " + a";
  EXPECT_EQ(text.size(), 65533u);
  EXPECT_TRUE(parseExpression(text).expression.has_value());
  EXPECT_EQ(errorOf(text + "   1"), "0: expression longer than 65536 bytes");
}

TEST(ExpressionStaticErrors, OperandTypes) {
  EXPECT_EQ(errorOf("'a' + 1"), "0: expected a number, got string 'a'");
  EXPECT_EQ(errorOf("1 - 'a'"), "4: expected a number, got string 'a'");
  EXPECT_EQ(errorOf("x * true"), "4: expected a number, got bool true");
  EXPECT_EQ(errorOf("x / (a == b)"), "4: expected a number, got bool (a == b)");
  EXPECT_EQ(errorOf("-'a'"), "1: expected a number, got string 'a'");
  EXPECT_EQ(errorOf("not 3"), "4: expected a bool, got number 3");
  EXPECT_EQ(errorOf("not lower(s)"), "4: expected a bool, got string lower(s)");
  EXPECT_EQ(errorOf("x and 'y'"), "6: expected a bool, got string 'y'");
  EXPECT_EQ(errorOf("1 or x"), "0: expected a bool, got number 1");
  EXPECT_EQ(errorOf("x + ('a')"), "4: expected a number, got string ('a')");
  EXPECT_EQ(errorOf("x + '" + std::string(50, 'y') + "'"),
            "4: expected a number, got string '" + std::string(39, 'y') + "...");
}

TEST(ExpressionStaticErrors, Functions) {
  EXPECT_EQ(errorOf("abs('x')"), "4: abs() expects a number, got string 'x'");
  EXPECT_EQ(errorOf("lower(3)"), "6: lower() expects a string, got number 3");
  EXPECT_EQ(errorOf("len(x > 1)"), "4: len() expects a string, got bool x > 1");
  EXPECT_EQ(errorOf("upper(len(s))"), "6: upper() expects a string, got number len(s)");
  EXPECT_EQ(errorOf("min(1, 'b')"), "7: min() expects a number, got string 'b'");
  EXPECT_EQ(errorOf("abs(1, 2)"), "0: abs() takes 1 argument, got 2");
  EXPECT_EQ(errorOf("abs()"), "0: abs() takes 1 argument, got 0");
  EXPECT_EQ(errorOf("x + max(x)"), "4: max() takes 2 arguments, got 1");
  EXPECT_EQ(errorOf("lowr(s)"), "0: unknown function \"lowr\" (did you mean \"lower\"?)");
  EXPECT_EQ(errorOf("x + LOWR(s)"), "4: unknown function \"LOWR\" (did you mean \"lower\"?)");
  EXPECT_EQ(errorOf("sum(x)"),
            "0: unknown function \"sum\" (functions: abs, floor, ceil, round, lower, upper, len, "
            "min, max)");
  // An unknown function's arguments are still checked; its result is not.
  EXPECT_EQ(errorsOf("nope('a' + 1) + 1"),
            (std::vector<std::string>{"0: unknown function \"nope\" (functions: abs, floor, ceil, "
                                      "round, lower, upper, len, min, max)",
                                      "5: expected a number, got string 'a'"}));
}

TEST(ExpressionStaticErrors, Comparisons) {
  EXPECT_EQ(errorOf("'a' == 1"), "4: cannot compare string 'a' with number 1");
  EXPECT_EQ(errorOf("1 != 'a'"), "2: cannot compare number 1 with string 'a'");
  EXPECT_EQ(errorOf("len(s) < 'abc'"), "7: cannot compare number len(s) with string 'abc'");
  EXPECT_EQ(errorOf("(x > 1) == 2"), "8: cannot compare bool (x > 1) with number 2");
  EXPECT_EQ(errorsOf("true < false"),
            (std::vector<std::string>{"0: expected a number or a string, got bool true",
                                      "7: expected a number or a string, got bool false"}));
  EXPECT_EQ(errorOf("x >= (y == 1)"), "5: expected a number or a string, got bool (y == 1)");
  EXPECT_EQ(errorOf("x == null"), "5: comparison with null is always null (use \"is null\")");
  EXPECT_EQ(errorOf("NULL != x"), "0: comparison with null is always null (use \"is not null\")");
  EXPECT_EQ(errorOf("x < null"), "4: comparison with null is always null");
  // Fields and bools compare with anything of their kind.
  EXPECT_EQ(canonical("x == 'a' and x == 1 and (x > 1) == true and lower(s) >= 'b'"),
            "x == 'a' and x == 1 and x > 1 == true and lower(s) >= 'b'");
}

TEST(ExpressionStaticErrors, Lists) {
  EXPECT_EQ(errorOf("x in [1, 'a']"), "9: list items must all be numbers, got string 'a'");
  EXPECT_EQ(errorsOf("x in ['a', 2, true]"),
            (std::vector<std::string>{"11: list items must all be strings, got number 2",
                                      "14: list items must all be strings, got bool true"}));
  EXPECT_EQ(errorOf("x in [1, null]"), "9: null in a list never matches (use \"is null\")");
  EXPECT_EQ(errorOf("x not in [null]"), "10: null in a list never matches (use \"is not null\")");
  EXPECT_EQ(errorOf("len(s) in ['a']"), "7: cannot compare number len(s) with a list of strings");
  EXPECT_EQ(errorOf("(x > 1) not in [1, 2]"),
            "8: cannot compare bool (x > 1) with a list of numbers");
  EXPECT_EQ(errorOf("null in [1]"), "0: comparison with null is always null (use \"is null\")");
}

TEST(ExpressionStaticErrors, AllAreCollectedInOrder) {
  EXPECT_EQ(errorsOf("abs('x') + lowr(1) - (not 3) > 'b' or upper(2)"),
            (std::vector<std::string>{
                "4: abs() expects a number, got string 'x'",
                "11: unknown function \"lowr\" (did you mean \"lower\"?)",
                "21: expected a number, got bool (not 3)",
                "26: expected a bool, got number 3",
                "29: cannot compare number abs('x') + lowr(1) - (not 3) with string 'b'",
                "38: expected a bool, got string upper(2)",
                "44: upper() expects a string, got number 2",
            }));
}

TEST(ExpressionResultType, WhereAggregateAndGroupBy) {
  EXPECT_EQ(checkResultType(valid("x > 1"), ExprType::kBool), std::nullopt);
  EXPECT_EQ(checkResultType(valid("flag"), ExprType::kBool), std::nullopt);
  EXPECT_EQ(checkResultType(valid("price * qty"), ExprType::kNumber), std::nullopt);
  EXPECT_EQ(checkResultType(valid("floor(price / 10)"), ExprType::kAny), std::nullopt);
  EXPECT_EQ(checkResultType(valid("lower(s)"), ExprType::kAny), std::nullopt);
  EXPECT_EQ(checkResultType(valid("x > 1"), ExprType::kAny), std::nullopt);

  const auto message = [](const std::optional<ExprError>& e) {
    return e ? std::to_string(e->offset) + ": " + e->message : "<none>";
  };
  EXPECT_EQ(message(checkResultType(valid("qty * 2"), ExprType::kBool)),
            "0: expected a bool, got number qty * 2");
  EXPECT_EQ(message(checkResultType(valid(" (lower(s))"), ExprType::kNumber)),
            "1: expected a number, got string (lower(s))");
  EXPECT_EQ(message(checkResultType(valid("x > 1"), ExprType::kString)),
            "0: expected a string, got bool x > 1");
  EXPECT_EQ(message(checkResultType(valid("null"), ExprType::kBool)),
            "0: expected a bool, got null");
  EXPECT_EQ(message(checkResultType(valid("null"), ExprType::kAny)),
            "0: the expression is always null");
}

TEST(ExpressionParse, CanonicalFormParsesToItself) {
  for (const char* text :
       {"a + b * -c", "not x in ['it''s', ''] or y is not null", "`odd name`.in >= 1e-3",
        "min(abs(a), floor(b / 2)) != round(ceil(c))", "lower(`null`) == upper(s)"}) {
    const std::string once = canonical(text);
    EXPECT_EQ(canonical(once), once) << text;
  }
}

}  // namespace
}  // namespace rivulet::config

#include "config/aggregate_expr.h"

#include <gtest/gtest.h>

namespace rivulet::config {
namespace {

std::string errorOf(std::string_view text) {
  std::string error;
  EXPECT_EQ(parseAggregate(text, &error), std::nullopt) << text;
  return error;
}

AggregateSpec parse(std::string_view text) {
  std::string error;
  const auto spec = parseAggregate(text, &error);
  EXPECT_TRUE(spec) << text << ": " << error;
  return spec.value_or(AggregateSpec{});
}

TEST(IsFieldName, Identifiers) {
  EXPECT_TRUE(isFieldName("qty"));
  EXPECT_TRUE(isFieldName("_x1"));
  EXPECT_TRUE(isFieldName("Price_2"));
  EXPECT_FALSE(isFieldName(""));
  EXPECT_FALSE(isFieldName("1x"));
  EXPECT_FALSE(isFieldName("a.b"));
  EXPECT_FALSE(isFieldName("a-b"));
  EXPECT_FALSE(isFieldName("a b"));
}

TEST(ParseAggregate, EachFunction) {
  EXPECT_EQ(parse("count()").kind, AggregateKind::kCount);
  EXPECT_EQ(parse("count()").field, "");
  const std::pair<const char*, AggregateKind> cases[] = {
      {"sum", AggregateKind::kSum},       {"min", AggregateKind::kMin},
      {"max", AggregateKind::kMax},       {"avg", AggregateKind::kAvg},
      {"first", AggregateKind::kFirst},   {"last", AggregateKind::kLast},
      {"stddev", AggregateKind::kStddev}, {"variance", AggregateKind::kVariance},
  };
  for (const auto& [name, kind] : cases) {
    const AggregateSpec spec = parse(std::string(name) + "(price)");
    EXPECT_EQ(spec.kind, kind) << name;
    EXPECT_EQ(spec.field, "price") << name;
    EXPECT_EQ(spec.name, "");
  }
}

TEST(ParseAggregate, WhitespaceAroundTokens) {
  EXPECT_EQ(parse("  count (  ) ").kind, AggregateKind::kCount);
  const AggregateSpec spec = parse(" sum ( qty ) ");
  EXPECT_EQ(spec.kind, AggregateKind::kSum);
  EXPECT_EQ(spec.field, "qty");
}

TEST(ParseAggregate, SyntaxErrors) {
  const std::string hint = " is not an aggregate (use e.g. count(), sum(field), avg(field))";
  EXPECT_EQ(errorOf("sum qty"), "\"sum qty\"" + hint);
  EXPECT_EQ(errorOf("sum(qty"), "\"sum(qty\"" + hint);
  EXPECT_EQ(errorOf("count"), "\"count\"" + hint);
  EXPECT_EQ(errorOf(""), "\"\"" + hint);
  EXPECT_EQ(errorOf("(x)"), "\"(x)\"" + hint);
  EXPECT_EQ(errorOf("1sum(x)"), "\"1sum(x)\"" + hint);
  EXPECT_EQ(errorOf("sum(x) + 1"), "\"sum(x) + 1\"" + hint);
}

TEST(ParseAggregate, NotSupportedYet) {
  for (const char* name :
       {"quantile", "count_distinct", "top_k", "count_if", "p50", "p90", "p95", "p99", "p999"}) {
    EXPECT_EQ(errorOf(std::string(name) + "(x, 3)"),
              "\"" + std::string(name) + "\" is not supported yet");
  }
}

TEST(ParseAggregate, UnknownFunction) {
  EXPECT_EQ(errorOf("summ(x)"), "unknown function \"summ\" (did you mean \"sum\"?)");
  EXPECT_EQ(errorOf("average(x)"),
            "unknown function \"average\" (functions: count, sum, min, max, avg, first, last, "
            "stddev, variance)");
  EXPECT_EQ(errorOf("SUM(x)"),
            "unknown function \"SUM\" (functions: count, sum, min, max, avg, first, last, "
            "stddev, variance)");
}

TEST(ParseAggregate, WrongArity) {
  EXPECT_EQ(errorOf("count(x)"), "\"count(x)\": count takes no argument (use count())");
  EXPECT_EQ(errorOf("sum()"), "\"sum()\": sum takes exactly one field, e.g. sum(value)");
  EXPECT_EQ(errorOf("avg( )"), "\"avg( )\": avg takes exactly one field, e.g. avg(value)");
  EXPECT_EQ(errorOf("max(a, b)"), "\"max(a, b)\": max takes exactly one field, e.g. max(value)");
}

TEST(ParseAggregate, BadField) {
  EXPECT_EQ(errorOf("sum(1x)"),
            "\"sum(1x)\": \"1x\" is not a field name (letters, digits and '_', not starting with "
            "a digit)");
  EXPECT_EQ(errorOf("min(a.b)"),
            "\"min(a.b)\": \"a.b\" is not a field name (letters, digits and '_', not starting "
            "with a digit)");
  EXPECT_EQ(errorOf("sum((x))"),
            "\"sum((x))\": \"(x)\" is not a field name (letters, digits and '_', not starting "
            "with a digit)");
}

}  // namespace
}  // namespace rivulet::config

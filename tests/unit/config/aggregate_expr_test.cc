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

TEST(ParseAggregate, Quantiles) {
  const AggregateSpec q = parse("quantile(latency_ms, 0.25)");
  EXPECT_EQ(q.kind, AggregateKind::kQuantile);
  EXPECT_EQ(q.field, "latency_ms");
  EXPECT_EQ(q.quantile, 0.25);
  EXPECT_EQ(parse("quantile( x , 0 )").quantile, 0);
  EXPECT_EQ(parse("quantile(x, 1)").quantile, 1);
  EXPECT_EQ(parse("quantile(x, .5)").quantile, 0.5);
  const std::pair<const char*, double> shorthands[] = {
      {"median", 0.5}, {"p50", 0.5}, {"p90", 0.9}, {"p95", 0.95}, {"p99", 0.99}, {"p999", 0.999}};
  for (const auto& [name, quantile] : shorthands) {
    const AggregateSpec spec = parse(std::string(name) + "(latency_ms)");
    EXPECT_EQ(spec.kind, AggregateKind::kQuantile) << name;
    EXPECT_EQ(spec.quantile, quantile) << name;
    EXPECT_EQ(spec.field, "latency_ms") << name;
  }
  // An expression argument is a number, as for the other numeric aggregates.
  EXPECT_TRUE(parse("p99(end - start)").argument.has_value());
  EXPECT_EQ(errorOf("p99('x')"), "\"p99('x')\": expected a number, got string 'x'");
  EXPECT_EQ(errorOf("median(x, 0.5)"),
            "\"median(x, 0.5)\": median takes exactly one field or expression, e.g. median(value)");
}

TEST(ParseAggregate, QuantileErrors) {
  const std::string usage =
      "quantile takes a field or expression and a number q in [0, 1], e.g. "
      "quantile(latency_ms, 0.99)";
  EXPECT_EQ(errorOf("quantile(x)"), "\"quantile(x)\": " + usage);
  EXPECT_EQ(errorOf("quantile(x, 0.5, 1)"), "\"quantile(x, 0.5, 1)\": " + usage);
  EXPECT_EQ(errorOf("p99(x, 0.5)"),
            "\"p99(x, 0.5)\": p99 takes exactly one field or expression, e.g. p99(value)");
  for (const char* q : {"1.5", "-0.1", "q", "0.5x", "nan", "inf", "1/2", ""}) {
    EXPECT_EQ(errorOf("quantile(x, " + std::string(q) + ")"),
              "\"quantile(x, " + std::string(q) + ")\": q must be a number in [0, 1], got \"" +
                  std::string(q) + "\"")
        << q;
  }
}

TEST(ParseAggregate, CountDistinctAndTopK) {
  const AggregateSpec distinct = parse("count_distinct(account)");
  EXPECT_EQ(distinct.kind, AggregateKind::kCountDistinct);
  EXPECT_EQ(distinct.field, "account");
  const AggregateSpec top = parse("top_k(venue, 3)");
  EXPECT_EQ(top.kind, AggregateKind::kTopK);
  EXPECT_EQ(top.field, "venue");
  EXPECT_EQ(top.k, 3);
  EXPECT_EQ(parse("top_k(venue, 25)").k, 25);
  // Any value counts: a string or bool expression too, unlike sum's.
  EXPECT_TRUE(parse("count_distinct(lower(account))").argument.has_value());
  EXPECT_TRUE(parse("top_k(qty > 100, 2)").argument.has_value());
  EXPECT_EQ(errorOf("count_distinct(a, b)"),
            "\"count_distinct(a, b)\": count_distinct takes exactly one field or expression, e.g. "
            "count_distinct(value)");
  EXPECT_EQ(errorOf("top_k(venue)"),
            "\"top_k(venue)\": top_k takes a field or expression and a count k, e.g. "
            "top_k(venue, 3)");
  for (const char* k : {"0", "26", "-1", "2.5", "k", "3 4"}) {
    EXPECT_EQ(errorOf("top_k(venue, " + std::string(k) + ")"),
              "\"top_k(venue, " + std::string(k) +
                  ")\": k must be an integer from 1 to 25, got \"" + std::string(k) + "\"")
        << k;
  }
}

const std::string kFunctionList =
    "functions: count, sum, min, max, avg, first, last, stddev, variance, count_if, quantile, "
    "median, p50, p90, p95, p99, p999, count_distinct, top_k";

TEST(ParseAggregate, UnknownFunction) {
  EXPECT_EQ(errorOf("summ(x)"), "unknown function \"summ\" (did you mean \"sum\"?)");
  EXPECT_EQ(errorOf("average(x)"), "unknown function \"average\" (" + kFunctionList + ")");
  EXPECT_EQ(errorOf("SUM(x)"), "unknown function \"SUM\" (" + kFunctionList + ")");
  EXPECT_EQ(errorOf("p98(x)"), "unknown function \"p98\" (did you mean \"p90\"?)");
  EXPECT_EQ(errorOf("medain(x)"), "unknown function \"medain\" (did you mean \"median\"?)");
}

TEST(ParseAggregate, WrongArity) {
  EXPECT_EQ(errorOf("count(x)"), "\"count(x)\": count takes no argument (use count())");
  EXPECT_EQ(errorOf("sum()"),
            "\"sum()\": sum takes exactly one field or expression, e.g. sum(value)");
  EXPECT_EQ(errorOf("avg( )"),
            "\"avg( )\": avg takes exactly one field or expression, e.g. avg(value)");
  EXPECT_EQ(errorOf("max(a, b)"),
            "\"max(a, b)\": max takes exactly one field or expression, e.g. max(value)");
  EXPECT_EQ(errorOf("count_if(a, b)"),
            "\"count_if(a, b)\": count_if takes exactly one condition, e.g. count_if(qty > 100)");
  // A comma inside a call or a string is not an argument separator.
  EXPECT_EQ(parse("max(max(a, b))").kind, AggregateKind::kMax);
}

TEST(ParseAggregate, BadArgument) {
  EXPECT_EQ(errorOf("sum(1x)"), "\"sum(1x)\": malformed number \"1x\"");
  EXPECT_TRUE(parse("min(a.b)").argument.has_value());  // a nested field
  EXPECT_EQ(parse("sum(side)").field, "side");  // a bare field: its type is checked per event
  EXPECT_EQ(errorOf("sum('x')"), "\"sum('x')\": expected a number, got string 'x'");
  EXPECT_TRUE(parse("count_if(flag)").argument.has_value());
  EXPECT_EQ(errorOf("count_if(qty + 1)"),
            "\"count_if(qty + 1)\": expected a bool, got number qty + 1");
}

// An argument that is not a bare field is an expression, kept with its canonical text, which is
// what equal arguments are shared by.
TEST(ParseAggregate, ExpressionArguments) {
  std::string error;
  const auto sum = parseAggregate("sum(price*qty)", &error);
  ASSERT_TRUE(sum.has_value()) << error;
  EXPECT_EQ(sum->kind, AggregateKind::kSum);
  ASSERT_TRUE(sum->argument.has_value());
  EXPECT_EQ(sum->field, sum->argument->toString());
  const auto same = parseAggregate("sum( price * qty )", &error);
  ASSERT_TRUE(same.has_value()) << error;
  EXPECT_EQ(same->field, sum->field);
  const auto count_if = parseAggregate("count_if(side == 'buy, sell' and max(a, b) > 1)", &error);
  ASSERT_TRUE(count_if.has_value()) << error;
  EXPECT_EQ(count_if->kind, AggregateKind::kCountIf);
  const auto plain = parseAggregate("sum(qty)", &error);
  ASSERT_TRUE(plain.has_value());
  EXPECT_FALSE(plain->argument.has_value());
  EXPECT_EQ(plain->field, "qty");
}

}  // namespace
}  // namespace rivulet::config

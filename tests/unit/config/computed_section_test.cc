// Values computed from aggregates (`vwap: sum(price * qty) / sum(qty)`) and `having:`: what the
// loader makes of them (hidden aggregates, positions, names resolved) and the exact message of
// every mistake.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/loader.h"
#include "tests/unit/config/errors_of.h"

namespace rivulet::config {
namespace {

using ::testing::ElementsAre;

PipelineConfig loadPipeline(std::string_view pipeline) {
  const std::string yaml =
      "sources:\n"
      "  trades:\n"
      "    kind: file\n"
      "    path: /dev/null\n"
      "    fields: {ts: number, sym: string, price: number, qty: number}\n"
      "pipelines:\n"
      "  p:\n"
      "    from: trades\n"
      "    group_by: [sym]\n"
      "    window: {tumbling: 1s}\n" +
      std::string(pipeline);
  const LoadResult result = loadString(yaml, "t.yaml");
  for (const ConfigError& e : result.errors) ADD_FAILURE() << e.toString();
  if (!result.config) return {};
  return result.config->pipelines.front();
}

std::vector<std::string> names(const std::vector<AggregateSpec>& aggregates, bool hidden) {
  std::vector<std::string> out;
  for (const AggregateSpec& a : aggregates) {
    if (a.hidden == hidden) out.push_back(a.name);
  }
  return out;
}

TEST(ComputedValues, AggregateCallsBecomeHiddenAggregatesOnceEach) {
  const PipelineConfig p = loadPipeline(
      "    aggregates:\n"
      "      volume: sum(qty)\n"
      "      vwap: sum(price * qty) / sum(qty)\n"
      "      range: max(price) - min(price)\n"
      "      n: count()\n"
      "      notional_per_trade: sum(price * qty) / n\n");
  EXPECT_THAT(names(p.aggregates, false), ElementsAre("volume", "n"));
  EXPECT_THAT(names(p.aggregates, true),
              ElementsAre("sum(price * qty)", "sum(qty)", "max(price)", "min(price)"));
  ASSERT_EQ(p.computed.size(), 3u);
  EXPECT_EQ(p.computed[0].name, "vwap");
  EXPECT_EQ(p.computed[0].position, 1u);
  EXPECT_EQ(p.computed[0].expression.toString(), "`sum(price * qty)` / `sum(qty)`");
  EXPECT_EQ(p.computed[1].name, "range");
  EXPECT_EQ(p.computed[1].position, 2u);
  EXPECT_EQ(p.computed[2].position, 4u);
  EXPECT_EQ(p.computed[2].expression.toString(), "`sum(price * qty)` / n");
  const AggregateSpec& hidden_sum = p.aggregates[2];
  EXPECT_EQ(hidden_sum.kind, AggregateKind::kSum);
  ASSERT_TRUE(hidden_sum.argument.has_value());
  EXPECT_EQ(hidden_sum.field, "price * qty");
}

TEST(ComputedValues, MinAndMaxWithTwoArgumentsAreTheFunctions) {
  const PipelineConfig p = loadPipeline(
      "    aggregates:\n"
      "      floor_high: max(max(price), 100)\n"
      "      low: min(price)\n");
  EXPECT_THAT(names(p.aggregates, false), ElementsAre("low"));
  EXPECT_THAT(names(p.aggregates, true), ElementsAre("max(price)"));
  ASSERT_EQ(p.computed.size(), 1u);
  EXPECT_EQ(p.computed[0].expression.toString(), "max(`max(price)`, 100)");
}

TEST(ComputedValues, ComputedValuesReadKeysAndEarlierComputedValues) {
  const PipelineConfig p = loadPipeline(
      "    aggregates:\n"
      "      n: count()\n"
      "      twice: n * 2\n"
      "      more: twice + 1\n"
      "      shout: upper(sym)\n");
  ASSERT_EQ(p.computed.size(), 3u);
  EXPECT_EQ(p.computed[1].expression.toString(), "twice + 1");
  EXPECT_EQ(p.computed[2].expression.type(), ExprType::kString);
  EXPECT_THAT(names(p.aggregates, true), ElementsAre());
}

TEST(ComputedValues, HavingReadsNamesAndCalls) {
  const PipelineConfig p = loadPipeline(
      "    aggregates:\n"
      "      volume: sum(qty)\n"
      "      avg_size: volume / count()\n"
      "    having: volume > 100 and count() >= 3 and sym != 'IBM' and avg_size > 1\n");
  ASSERT_TRUE(p.having.has_value());
  EXPECT_THAT(names(p.aggregates, true), ElementsAre("count()"));
  EXPECT_EQ(p.having->type(), ExprType::kBool);
}

TEST(ComputedValues, PlainPipelinesAreUnchanged) {
  const PipelineConfig p =
      loadPipeline("    aggregates: {volume: sum(qty), top: \"top_k(sym, 3)\"}\n");
  EXPECT_TRUE(p.computed.empty());
  EXPECT_FALSE(p.having.has_value());
  EXPECT_THAT(names(p.aggregates, true), ElementsAre());
}

TEST(ComputedErrors, EveryMistakeAtItsPlace) {
  EXPECT_THAT(
      errorsOf(R"yaml(sources:
  t: {kind: file, path: /dev/null, fields: {ts: number, sym: string, price: number}}
pipelines:
  p:
    from: t
    group_by: [sym]
    window: {tumbling: 1s}
    aggregates:
      n: count()
      a: price * 2
      b: later + 1
      later: n + 1
      c: sums(price) / n
      d: top_k(sym, 2) + 1
      e: sum(sym) / n
      f: sum(price) / (n
    having: n + 1
)yaml"),
      ElementsAre(
          "t.yaml:10:10: pipelines.p.aggregates.a: \"price\" is not a value of the results: "
          "outside an aggregate call, a computed value or having reads the aggregates, the "
          "group_by keys and the computed values before it (an event field is read through an "
          "aggregate, e.g. sum(price)) (names: sym, n)",
          "t.yaml:11:10: pipelines.p.aggregates.b: \"later\" is not a value of the results: "
          "outside an aggregate call, a computed value or having reads the aggregates, the "
          "group_by keys and the computed values before it (an event field is read through an "
          "aggregate, e.g. sum(later)) (names: sym, n)",
          "t.yaml:13:10: pipelines.p.aggregates.c: unknown function \"sums\" (functions: abs, "
          "floor, ceil, round, lower, upper, len, min, max)",
          "t.yaml:14:10: pipelines.p.aggregates.d: \"top_k(sym, 2)\" is a list of items: an "
          "expression cannot compute with it",
          "t.yaml:15:10: pipelines.p.aggregates.e: \"sum(sym)\": \"sym\" is declared string, and "
          "the argument must be a number",
          "t.yaml:16:25: pipelines.p.aggregates.f: expected \")\" to close \"(\" at 13, got the "
          "end",
          "t.yaml:17:13: pipelines.p.having: expected a bool, got number n + 1"));
}

TEST(Top, RanksByAnExpressionOverTheResults) {
  const PipelineConfig p = loadPipeline(
      "    aggregates:\n"
      "      volume: sum(qty)\n"
      "    top: {n: 10, by: volume * max(price), order: asc, ties: drop}\n");
  ASSERT_TRUE(p.top.has_value());
  EXPECT_EQ(p.top->n, 10);
  EXPECT_TRUE(p.top->ascending);
  EXPECT_FALSE(p.top->keep_ties);
  EXPECT_EQ(p.top->by.toString(), "volume * `max(price)`");
  EXPECT_THAT(names(p.aggregates, true), ElementsAre("max(price)"));
  const PipelineConfig defaults = loadPipeline(
      "    aggregates: {n: count()}\n"
      "    top: {n: 1, by: n}\n");
  ASSERT_TRUE(defaults.top.has_value());
  EXPECT_FALSE(defaults.top->ascending);
  EXPECT_TRUE(defaults.top->keep_ties);
}

TEST(Top, EveryMistakeAtItsPlace) {
  EXPECT_THAT(
      errorsOf(R"yaml(sources:
  t: {kind: file, path: /dev/null, fields: {ts: number, sym: string}}
pipelines:
  zero:
    from: t
    group_by: [sym]
    window: {tumbling: 1s}
    aggregates: {n: count()}
    top: {n: 0, by: n}
  words:
    from: t
    window: {tumbling: 1s}
    aggregates: {n: count()}
    top: {n: 1, by: sym, order: up, ties: both}
  sessions:
    from: t
    group_by: [sym]
    window: {session: {gap: 1s}}
    aggregates: {n: count()}
    top: {n: 1, by: n}
  updates:
    from: t
    group_by: [sym]
    window: {tumbling: 1s}
    emit: updates
    aggregates: {n: count()}
    top: {by: n}
)yaml"),
      ElementsAre(
          "t.yaml:9:14: pipelines.zero.top.n: \"0\" is out of range (expected an integer in "
          "1..10000)",
          "t.yaml:14:21: pipelines.words.top.by: \"sym\" is not a value of the results: outside "
          "an aggregate call, a computed value or having reads the aggregates, the group_by keys "
          "and the computed values before it (an event field is read through an aggregate, e.g. "
          "sum(sym)) (names: n)",
          "t.yaml:14:33: pipelines.words.top.order: \"up\" is not an order (expected one of: "
          "desc, asc)",
          "t.yaml:14:43: pipelines.words.top.ties: \"both\" is not a ties rule (expected one "
          "of: keep, drop)",
          "t.yaml:20:5: pipelines.sessions.top: top ranks the results of a window, and a session "
          "is a window of one key",
          "t.yaml:27:5: pipelines.updates.top: top ranks each window's final results once: it "
          "cannot follow emit: updates",
          "t.yaml:27:10: pipelines.updates.top: missing required key \"n\""));
}

}  // namespace
}  // namespace rivulet::config

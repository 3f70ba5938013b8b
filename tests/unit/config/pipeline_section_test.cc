// Bad `pipelines:` entries: the exact "file:line:column: path: message" of every error, in file
// order. The YAML literals start at line 1, column 1.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/loader.h"
#include "tests/unit/config/errors_of.h"

namespace rivulet::config {
namespace {

using ::testing::ElementsAre;

TEST(PipelineErrors, WindowLengths) {
  EXPECT_THAT(
      errorsOf(R"yaml(sources: { g: { kind: generator } }
pipelines:
  zero:
    from: g
    window: { tumbling: 0s }
    aggregates: { n: count() }
  micros:
    from: g
    window: { tumbling: 1500us }
    aggregates: { n: count() }
  slide_too_long:
    from: g
    window:
      hopping: { size: 5s, slide: 10s }
    aggregates: { n: count() }
  too_many_panes:
    from: g
    window:
      hopping: { size: 1h, slide: 7ms }
    aggregates: { n: count() }
)yaml"),
      ElementsAre(
          "t.yaml:5:25: pipelines.zero.window.tumbling: \"0s\" is too short (a window is at "
          "least 1ms)",
          "t.yaml:9:25: pipelines.micros.window.tumbling: \"1500us\" is not a whole number of "
          "milliseconds",
          "t.yaml:14:35: pipelines.slide_too_long.window.hopping.slide: slide \"10s\" is longer "
          "than size \"5s\"",
          "t.yaml:19:35: pipelines.too_many_panes.window.hopping.slide: size \"1h\" and slide "
          "\"7ms\" need 3600000 panes per window (at most 10000); use a slide that divides the "
          "size"));
}

TEST(PipelineErrors, MaxKeys) {
  EXPECT_THAT(errorsOf(R"yaml(sources: { g: { kind: generator } }
pipelines:
  zero:
    from: g
    window: { tumbling: 1s }
    max_keys: 0
    aggregates: { n: count() }
  words:
    from: g
    window: { tumbling: 1s }
    max_keys: lots
    aggregates: { n: count() }
  huge:
    from: g
    window: { tumbling: 1s }
    max_keys: 3000000000
    aggregates: { n: count() }
)yaml"),
              ElementsAre("t.yaml:6:15: pipelines.zero.max_keys: \"0\" is out of range "
                          "(expected an integer in 1..2147483648)",
                          "t.yaml:11:15: pipelines.words.max_keys: \"lots\" is not an integer",
                          "t.yaml:16:15: pipelines.huge.max_keys: \"3000000000\" is out of range "
                          "(expected an integer in 1..2147483648)"));
}

TEST(PipelineErrors, HoppingShape) {
  EXPECT_THAT(
      errorsOf(R"yaml(sources: { g: { kind: generator } }
pipelines:
  a:
    from: g
    window: { hopping: {} }
    aggregates: { n: count() }
  b:
    from: g
    window: { hopping: 1s }
    aggregates: { n: count() }
  c:
    from: g
    window: { tumbling: 1s, hopping: { size: 2s, slide: 1s } }
    aggregates: { n: count() }
  d:
    from: g
    window: { hopping: { size: 2s, slide: 0s, every: 1s } }
    aggregates: { n: count() }
)yaml"),
      ElementsAre(
          "t.yaml:5:24: pipelines.a.window.hopping: missing required key \"size\"",
          "t.yaml:5:24: pipelines.a.window.hopping: missing required key \"slide\"",
          "t.yaml:9:24: pipelines.b.window.hopping: expected a map, got \"1s\"",
          "t.yaml:13:29: pipelines.c.window.hopping: a window is one of tumbling, hopping or "
          "session, not several",
          "t.yaml:17:43: pipelines.d.window.hopping.slide: \"0s\" is too short (a window is at "
          "least 1ms)",
          "t.yaml:17:47: pipelines.d.window.hopping.every: unknown key \"every\" (known keys: "
          "size, slide)"));
}

TEST(PipelineErrors, SessionShape) {
  EXPECT_THAT(
      errorsOf(R"yaml(sources: { g: { kind: generator } }
pipelines:
  a:
    from: g
    window: { session: {} }
    aggregates: { n: count() }
  b:
    from: g
    window: { session: 30s }
    aggregates: { n: count() }
  c:
    from: g
    window: { session: { gap: 1s }, tumbling: 1s }
    aggregates: { n: count() }
  d:
    from: g
    window: { session: { gap: 0s, max: 1m } }
    aggregates: { n: count() }
)yaml"),
      ElementsAre(
          "t.yaml:5:24: pipelines.a.window.session: missing required key \"gap\"",
          "t.yaml:9:24: pipelines.b.window.session: expected a map, got \"30s\"",
          "t.yaml:13:37: pipelines.c.window.tumbling: a window is one of tumbling, hopping or "
          "session, not several",
          "t.yaml:17:31: pipelines.d.window.session.gap: \"0s\" is too short (a window is at "
          "least 1ms)",
          "t.yaml:17:35: pipelines.d.window.session.max: unknown key \"max\" (known keys: gap)"));
}

TEST(PipelineErrors, UnknownSourceInFrom) {
  EXPECT_THAT(
      errorsOf(R"yaml(sources:
  demo: { kind: generator }
  trades: { kind: file, path: t.jsonl }
pipelines:
  a:
    from: dmeo
    window: { tumbling: 1s }
    aggregates: { n: count() }
  b:
    from: [trades, quotes, trades]
    window: { tumbling: 1s }
    aggregates: { n: count() }
  c:
    from: []
    window: { tumbling: 1s }
    aggregates: { n: count() }
)yaml"),
      ElementsAre("t.yaml:6:11: pipelines.a.from: \"dmeo\" is not a source or a pipeline (did "
                  "you mean \"demo\"?)",
                  "t.yaml:10:20: pipelines.b.from[1]: \"quotes\" is not a source or a pipeline "
                  "(sources and pipelines: demo, trades, a, b, c)",
                  "t.yaml:10:28: pipelines.b.from[2]: \"trades\" is listed twice",
                  "t.yaml:14:11: pipelines.c.from: at least one source is required"));
}

TEST(PipelineErrors, BadSourcesSectionDoesNotCascadeIntoFrom) {
  EXPECT_THAT(errorsOf(R"yaml(sources: [a]
pipelines:
  p: { from: a, window: { tumbling: 1s }, aggregates: { n: count() } }
)yaml"),
              ElementsAre("t.yaml:1:10: sources: expected a map, got a list"));
}

TEST(PipelineErrors, BadAggregates) {
  EXPECT_THAT(
      errorsOf(R"yaml(sources: { demo: { kind: generator } }
pipelines:
  p:
    from: demo
    window: { tumbling: 1s }
    aggregates:
      a: summ(value)
      b: geomean(value)
      c: count(value)
      d: sum()
      e: avg(value, ts)
      f: quantile(value, 1.5)
      g: top_k(value, 0)
      h: value
      i: { sum: value }
      j: "sum(1x)"
)yaml"),
      ElementsAre(
          "t.yaml:7:10: pipelines.p.aggregates.a: unknown function \"summ\" (did you mean "
          "\"sum\"?)",
          "t.yaml:8:10: pipelines.p.aggregates.b: unknown function \"geomean\" (functions: "
          "count, sum, min, max, avg, first, last, stddev, variance, count_if, quantile, median, "
          "p50, p90, p95, p99, p999, count_distinct, top_k)",
          "t.yaml:9:10: pipelines.p.aggregates.c: \"count(value)\": count takes no argument (use "
          "count())",
          "t.yaml:10:10: pipelines.p.aggregates.d: \"sum()\": sum takes exactly one field or "
          "expression, e.g. sum(value)",
          "t.yaml:11:10: pipelines.p.aggregates.e: \"avg(value, ts)\": avg takes exactly one "
          "field or expression, e.g. avg(value)",
          "t.yaml:12:10: pipelines.p.aggregates.f: \"quantile(value, 1.5)\": q must be a number "
          "in [0, 1], got \"1.5\"",
          "t.yaml:13:10: pipelines.p.aggregates.g: \"top_k(value, 0)\": k must be an integer "
          "from 1 to 25, got \"0\"",
          "t.yaml:14:10: pipelines.p.aggregates.h: \"value\" is not a value of the results: "
          "outside an aggregate call, a computed value or having reads the aggregates, the "
          "group_by keys and the computed values before it (an event field is read through an "
          "aggregate, e.g. sum(value))",
          "t.yaml:15:10: pipelines.p.aggregates.i: expected an aggregate such as sum(field), got "
          "a map",
          "t.yaml:16:10: pipelines.p.aggregates.j: \"sum(1x)\": malformed number \"1x\""));
}

TEST(PipelineErrors, GeneratorFields) {
  EXPECT_THAT(
      errorsOf(R"yaml(sources:
  demo:
    kind: generator
    time: { field: timestamp }
  other: { kind: file, path: x.jsonl }
pipelines:
  p:
    from: [other, demo]
    group_by: [key, symbol]
    window: { tumbling: 1s }
    aggregates:
      n: count()
      v: sum(value)
      px: avg(price)
  q:
    from: demo
    group_by: venue
    window: { tumbling: 1s }
    aggregates: { n: count() }
)yaml"),
      ElementsAre("t.yaml:4:20: sources.demo.time.field: \"timestamp\" is not a field of "
                  "generator source \"demo\" (fields: ts, key, value)",
                  "t.yaml:9:21: pipelines.p.group_by[1]: \"symbol\" is not a field of generator "
                  "source \"demo\" (fields: ts, key, value)",
                  "t.yaml:14:11: pipelines.p.aggregates.px: \"price\" is not a field of generator "
                  "source \"demo\" (fields: ts, key, value)",
                  "t.yaml:17:15: pipelines.q.group_by: \"venue\" is not a field of generator "
                  "source \"demo\" (fields: ts, key, value)"));
}

TEST(PipelineErrors, NexmarkGeneratorFields) {
  EXPECT_THAT(errorsOf(R"yaml(sources:
  nx: { kind: generator, profile: nexmark }
  bad: { kind: generator, profile: tpch }
pipelines:
  p:
    from: nx
    group_by: [key]
    window: { tumbling: 1s }
    aggregates: { top: max(price), n: count() }
)yaml"),
              ElementsAre("t.yaml:3:36: sources.bad.profile: \"tpch\" is not a generator profile "
                          "(expected one of: keys, nexmark)",
                          "t.yaml:7:16: pipelines.p.group_by[0]: \"key\" is not a field of "
                          "generator source \"nx\" (fields: event_type, dateTime, id, name, "
                          "email_address, credit_card, city, state, item_name, initial_bid, "
                          "reserve, expires, seller, category, auction, bidder, price, channel)"));
}

// Persons', auctions' and bids' fields have their types: texts are strings, the rest integers.
TEST(PipelineErrors, NexmarkGeneratorFieldTypes) {
  EXPECT_THAT(errorsOf(R"yaml(sources:
  nx: { kind: generator, profile: nexmark, fields: { seller: integer, channel: number } }
pipelines:
  p:
    from: nx
    where: "state == 3"
    group_by: [city, seller]
    window: { tumbling: 1s }
    aggregates: { a: sum(name), b: max(reserve), c: min(expires), d: avg(item_name) }
)yaml"),
              ElementsAre("t.yaml:2:80: sources.nx.fields.channel: \"channel\" of generator "
                          "source \"nx\" is string, not number",
                          "t.yaml:6:19: pipelines.p.where: cannot compare string state with "
                          "number 3",
                          "t.yaml:9:22: pipelines.p.aggregates.a: \"sum(name)\": \"name\" is "
                          "declared string, and the argument must be a number",
                          "t.yaml:9:70: pipelines.p.aggregates.d: \"avg(item_name)\": "
                          "\"item_name\" is declared string, and the argument must be a number"));
}

TEST(PipelineErrors, GroupByAndAggregateNames) {
  EXPECT_THAT(
      errorsOf(R"yaml(sources: { s: { kind: file, path: x } }
pipelines:
  p:
    from: s
    group_by: [symbol, venue, symbol, "a.b"]
    window: { tumbling: 1s }
    aggregates:
      venue: count()
      total: sum(qty)
)yaml"),
      ElementsAre("t.yaml:5:31: pipelines.p.group_by[2]: \"symbol\" is listed twice",
                  "t.yaml:5:39: pipelines.p.group_by[3]: \"a.b\" is not a field name (letters, "
                  "digits and '_', not starting with a digit; an expression or a nested field "
                  "needs a name: - name: expression)",
                  "t.yaml:8:7: pipelines.p.aggregates.venue: \"venue\" is both a group_by name "
                  "and an aggregate name"));
}

// `name: expression` entries: expression errors at their column (one further in a quoted
// scalar), bad and repeated names at the name, the entry's shape at the entry.
TEST(PipelineErrors, GroupByExpressions) {
  EXPECT_THAT(
      errorsOf(R"yaml(sources: { s: { kind: file, path: x }, g: { kind: generator } }
pipelines:
  p:
    from: s
    group_by:
      - sym
      - bucket: floor(price / )
      - typed: "abs('x') + 1"
      - 2nd: lower(sym)
      - sym: lower(sym)
      - total: qty * 2
      - nothing: "null"
      - { a: x, b: y }
      - empty:
      - listed: [a]
      - lowr(sym)
    window: { tumbling: 1s }
    aggregates: { total: count() }
  q:
    from: g
    group_by:
      - band: floor(value / 10) * price
    window: { tumbling: 1s }
    aggregates: { n: count() }
)yaml"),
      ElementsAre(
          "t.yaml:7:31: pipelines.p.group_by[1].bucket: expected a value, got \")\"",
          "t.yaml:8:21: pipelines.p.group_by[2].typed: abs() expects a number, got string 'x'",
          "t.yaml:9:9: pipelines.p.group_by[3].2nd: \"2nd\" is not a valid name (letters, digits "
          "and '_', not starting with a digit)",
          "t.yaml:10:9: pipelines.p.group_by[4].sym: \"sym\" is listed twice",
          "t.yaml:12:19: pipelines.p.group_by[6].nothing: the expression is always null",
          "t.yaml:13:9: pipelines.p.group_by[7]: expected one \"name: expression\" entry, got 2",
          "t.yaml:14:9: pipelines.p.group_by[8].empty: expected an expression such as "
          "floor(price / 10), got an empty value",
          "t.yaml:15:17: pipelines.p.group_by[9].listed: expected an expression such as "
          "floor(price / 10), got a list",
          "t.yaml:16:9: pipelines.p.group_by[10]: \"lowr(sym)\" is not a field name (letters, "
          "digits and '_', not starting with a digit; an expression or a nested field needs a "
          "name: - name: expression)",
          "t.yaml:18:19: pipelines.p.aggregates.total: \"total\" is both a group_by name and an "
          "aggregate name",
          "t.yaml:22:15: pipelines.q.group_by[0].band: \"price\" is not a field of generator "
          "source \"g\" (fields: ts, key, value)"));
}

}  // namespace
}  // namespace rivulet::config

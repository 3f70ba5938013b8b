// A source's `fields:`: the declared types load into the config, bad declarations are refused, and
// every expression and aggregate of a pipeline reading the source is checked against them at load,
// each error at its file:line:column (issue: `avg(symbol)` of a string field was accepted and then
// refused every event at run time).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/loader.h"
#include "tests/unit/config/errors_of.h"

namespace rivulet::config {
namespace {

using ::testing::ElementsAre;

constexpr const char* kSource = R"yaml(sources:
  trades:
    kind: tcp
    listen: 127.0.0.1:7000
    time: { field: ts, unit: ms }
    fields: { price: number, qty: integer, symbol: string, buy: bool, order.id: string }
)yaml";

TEST(FieldsSection, DeclaredTypesLoad) {
  const LoadResult result = loadString(std::string(kSource) + R"yaml(pipelines:
  good:
    from: trades
    where: "buy and qty > 0 and lower(symbol) != 'x'"
    group_by: [symbol, { band: floor(price / 10) }]
    window: { tumbling: 1s }
    aggregates: { n: count(), avg: avg(price), q: sum(qty * price), ids: count_distinct(order.id) }
)yaml",
                                       "t.yaml");
  ASSERT_TRUE(result.config) << (result.errors.empty() ? "" : result.errors[0].toString());
  const std::vector<DeclaredField>& fields = result.config->sources[0].fields;
  ASSERT_EQ(fields.size(), 5u);
  EXPECT_EQ(fields[0], (DeclaredField{FieldPath{{"price"}}, FieldKind::kNumber}));
  EXPECT_EQ(fields[1], (DeclaredField{FieldPath{{"qty"}}, FieldKind::kInteger}));
  EXPECT_EQ(fields[2], (DeclaredField{FieldPath{{"symbol"}}, FieldKind::kString}));
  EXPECT_EQ(fields[3], (DeclaredField{FieldPath{{"buy"}}, FieldKind::kBool}));
  EXPECT_EQ(fields[4], (DeclaredField{FieldPath{{"order", "id"}}, FieldKind::kString}));
}

TEST(FieldsSection, ExpressionsAndAggregatesAreCheckedAgainstThem) {
  EXPECT_THAT(errorsOf(std::string(kSource) + R"yaml(pipelines:
  strmath:
    from: trades
    where: "symbol > 3"
    group_by: [{ up: upper(price) }]
    window: { tumbling: 1s }
    aggregates:
      n: count()
      avg: avg(symbol)
      total: sum(price + symbol)
      buys: count_if(buy)
      flags: count_if(qty)
      kinds: count_distinct(symbol)
)yaml"),
              ElementsAre("t.yaml:10:20: pipelines.strmath.where: cannot compare string symbol "
                          "with number 3",
                          "t.yaml:11:28: pipelines.strmath.group_by[0].up: upper() expects a "
                          "string, got number price",
                          "t.yaml:15:12: pipelines.strmath.aggregates.avg: \"avg(symbol)\": "
                          "\"symbol\" is declared string, and the argument must be a number",
                          "t.yaml:16:14: pipelines.strmath.aggregates.total: \"sum(price + "
                          "symbol)\": expected a number, got string symbol",
                          "t.yaml:18:14: pipelines.strmath.aggregates.flags: \"count_if(qty)\": "
                          "expected a bool, got number qty"));
}

// Undeclared fields stay dynamically typed; a field two sources declare differently is too.
TEST(FieldsSection, UndeclaredOrDisagreeingFieldsAreAny) {
  const LoadResult result = loadString(R"yaml(sources:
  a: { kind: tcp, listen: 127.0.0.1:7000, fields: { x: string } }
  b: { kind: tcp, listen: 127.0.0.1:7001, fields: { x: number } }
pipelines:
  p:
    from: [a, b]
    window: { tumbling: 1s }
    aggregates: { s: sum(x), t: sum(y + 1) }
)yaml",
                                       "t.yaml");
  EXPECT_TRUE(result.config) << (result.errors.empty() ? "" : result.errors[0].toString());
}

TEST(FieldsSection, BadDeclarationsAreRefused) {
  EXPECT_THAT(errorsOf(R"yaml(sources:
  t:
    kind: file
    path: x.jsonl
    time: { field: ts, unit: ms }
    fields: { ts: string, "a b": number, qty: int, price: number, price: integer }
  g:
    kind: generator
    fields: { key: number, value: number, ts: integer, nope: string }
pipelines:
  p: { from: t, window: { tumbling: 1s }, aggregates: { n: count() } }
)yaml"),
              ElementsAre("t.yaml:5:11: sources.t.time: the time field \"ts\" is declared string, "
                          "and its unit reads numbers",
                          "t.yaml:6:27: sources.t.fields.a b: \"a b\" is not a field (a name, a "
                          "nested field such as order.qty, or a backquoted name)",
                          "t.yaml:6:47: sources.t.fields.qty: \"int\" is not a field type "
                          "(expected one of: number, integer, string, bool)",
                          "t.yaml:6:67: sources.t.fields.price: duplicate key \"price\" (first "
                          "defined on line 6)",
                          "t.yaml:9:20: sources.g.fields.key: \"key\" of generator source \"g\" "
                          "is string, not number",
                          "t.yaml:9:62: sources.g.fields.nope: \"nope\" is not a field of "
                          "generator source \"g\" (fields: ts, key, value)"));
}

// One field written two ways is one field.
TEST(FieldsSection, AFieldIsDeclaredOnce) {
  EXPECT_THAT(errorsOf(R"yaml(sources:
  t: { kind: tcp, listen: 127.0.0.1:7000, fields: { order.id: string, "`order`.id": number } }
pipelines:
  p: { from: t, window: { tumbling: 1s }, aggregates: { n: count() } }
)yaml"),
              ElementsAre("t.yaml:2:71: sources.t.fields.`order`.id: \"order.id\" is listed "
                          "twice"));
}

// An iso8601 time field is text: declared, it must be a string.
TEST(FieldsSection, TimeFieldTypeFollowsItsUnit) {
  EXPECT_THAT(errorsOf(R"yaml(sources:
  a: { kind: tcp, listen: 127.0.0.1:7000, time: { field: at, unit: iso8601 }, fields: { at: string } }
  b: { kind: tcp, listen: 127.0.0.1:7001, time: { field: at, unit: iso8601 }, fields: { at: integer } }
pipelines:
  p: { from: [a, b], window: { tumbling: 1s }, aggregates: { n: count() } }
)yaml"),
              ElementsAre("t.yaml:3:49: sources.b.time: the time field \"at\" is declared integer, "
                          "and its unit reads text"));
}

// A generator's fields have their types without a declaration.
TEST(FieldsSection, GeneratorFieldsAreTyped) {
  EXPECT_THAT(errorsOf(R"yaml(sources:
  demo: { kind: generator }
pipelines:
  p:
    from: demo
    window: { tumbling: 1s }
    aggregates: { avg: avg(key) }
)yaml"),
              ElementsAre("t.yaml:7:24: pipelines.p.aggregates.avg: \"avg(key)\": \"key\" is "
                          "declared string, and the argument must be a number"));
}

}  // namespace
}  // namespace rivulet::config

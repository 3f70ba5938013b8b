// Bad config files, errors that are not about one section: each test asserts the exact text users
// see, "file:line:column: path: message", for every error of the file, in file order. The YAML
// literals start at line 1, column 1.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/loader.h"
#include "tests/unit/config/errors_of.h"

namespace rivulet::config {
namespace {

using ::testing::ElementsAre;

TEST(LoadErrors, BadDuration) {
  EXPECT_THAT(errorsOf(R"yaml(sources:
  demo:
    kind: generator
pipelines:
  volume_1m:
    from: demo
    window:
      tumbling: 1x
    aggregates:
      n: count()
)yaml"),
              ElementsAre("t.yaml:8:17: pipelines.volume_1m.window.tumbling: \"1x\" is not a "
                          "duration (use e.g. 500ms, 10s, 1m)"));
}

TEST(LoadErrors, ErrorFieldsAreSeparate) {
  const LoadResult result = loadString(R"yaml(sources:
  demo: { kind: generator, keys: x }
pipelines:
  p: { from: demo, window: { tumbling: 1s }, aggregates: { n: count() } }
)yaml",
                                       "dir/rivulet.yaml");
  ASSERT_EQ(result.errors.size(), 1u);
  const ConfigError& error = result.errors[0];
  EXPECT_EQ(error.file, "dir/rivulet.yaml");
  EXPECT_EQ(error.line, 2);
  EXPECT_EQ(error.column, 34);
  EXPECT_EQ(error.path, "sources.demo.keys");
  EXPECT_EQ(error.message, "\"x\" is not an integer");
}

TEST(LoadErrors, BadDurationsEverywhere) {
  EXPECT_THAT(
      errorsOf(R"yaml(sources:
  demo:
    kind: generator
    watermark: { delay: 2 s, idle: 5, max_future: 99999999999d }
pipelines:
  p:
    from: demo
    window: { tumbling: 1.5s }
    allowed_lateness: -1s
    aggregates: { n: count() }
)yaml"),
      ElementsAre(
          "t.yaml:4:25: sources.demo.watermark.delay: \"2 s\" is not a duration (use e.g. 500ms, "
          "10s, 1m)",
          "t.yaml:4:36: sources.demo.watermark.idle: \"5\" is not a duration (use e.g. 500ms, "
          "10s, 1m)",
          "t.yaml:4:51: sources.demo.watermark.max_future: \"99999999999d\" is too long (at most "
          "about 292 years)",
          "t.yaml:8:25: pipelines.p.window.tumbling: \"1.5s\" is not a duration (use e.g. 500ms, "
          "10s, 1m)",
          "t.yaml:9:23: pipelines.p.allowed_lateness: \"-1s\" is not a duration (use e.g. 500ms, "
          "10s, 1m)"));
}

TEST(LoadErrors, UnknownKeyWithDidYouMean) {
  // One typo, one error: no "missing required key" for the key the typo was meant to be.
  EXPECT_THAT(errorsOf(R"yaml(sources:
  demo:
    kind: generator
pipelines:
  p:
    from: demo
    window: { tumblng: 1s }
    agregates: { n: count() }
)yaml"),
              ElementsAre("t.yaml:7:15: pipelines.p.window.tumblng: unknown key \"tumblng\" (did "
                          "you mean \"tumbling\"?)",
                          "t.yaml:8:5: pipelines.p.agregates: unknown key \"agregates\" (did you "
                          "mean \"aggregates\"?)"));
}

TEST(LoadErrors, TypoOfTopLevelKeyIsOneError) {
  EXPECT_THAT(
      errorsOf(R"yaml(sourcs:
  demo: { kind: generator }
pipelines:
  p: { from: demo, window: { tumbling: 1s }, aggregates: { n: count() } }
)yaml"),
      ElementsAre("t.yaml:1:1: sourcs: unknown key \"sourcs\" (did you mean \"sources\"?)"));
}

TEST(LoadErrors, TypoOfAnotherKeyStillReportsTheMissingOne) {
  // "kinds" and "windw" stand in for "kind" and "window", which are therefore not reported as
  // missing; "aggregates" has no stand-in and is.
  EXPECT_THAT(errorsOf(R"yaml(sources:
  demo: { kinds: generator }
pipelines:
  p: { from: demo, windw: { tumbling: 1s } }
)yaml"),
              ElementsAre("t.yaml:2:11: sources.demo.kinds: unknown key \"kinds\" (did you mean "
                          "\"kind\"?)",
                          "t.yaml:4:6: pipelines.p: missing required key \"aggregates\"",
                          "t.yaml:4:20: pipelines.p.windw: unknown key \"windw\" (did you mean "
                          "\"window\"?)"));
}

TEST(LoadErrors, UnknownKeyWithoutSuggestionListsTheKnownKeys) {
  EXPECT_THAT(
      errorsOf(R"yaml(sources:
  demo:
    kind: generator
    colour: red
pipelines:
  p: { from: demo, window: { tumbling: 1s }, aggregates: { n: count() }, bogus: 1 }
extra: true
)yaml"),
      ElementsAre(
          "t.yaml:4:5: sources.demo.colour: unknown key \"colour\" (known keys: kind, format, "
          "time, watermark, fields, profile, keys, events_per_second, start, throttle, count, "
          "seed)",
          "t.yaml:6:74: pipelines.p.bogus: unknown key \"bogus\" (known keys: from, "
          "group_by, window, allowed_lateness, aggregates, where, having, top, emit, late, "
          "max_keys, publish, join, lookup)",
          "t.yaml:7:1: extra: unknown key \"extra\" (known keys: daemon, sources, "
          "tables, pipelines, outputs)"));
}

TEST(LoadErrors, MissingRequiredKeyIsReportedAtTheParent) {
  EXPECT_THAT(errorsOf(R"yaml(sources:
  demo:
    keys: 10
  log:
    kind: file
    follow: true
  net: { kind: tcp }
pipelines:
  p:
    from: demo
    aggregates: { n: count() }
)yaml"),
              ElementsAre("t.yaml:3:5: sources.demo: missing required key \"kind\"",
                          "t.yaml:5:5: sources.log: missing required key \"path\"",
                          "t.yaml:7:8: sources.net: missing required key \"listen\"",
                          "t.yaml:10:5: pipelines.p: missing required key \"window\""));
}

TEST(LoadErrors, MissingTopLevelSections) {
  EXPECT_THAT(errorsOf(R"yaml(daemon:
  stages: 1
)yaml"),
              ElementsAre("t.yaml:1:1: missing required key \"sources\"",
                          "t.yaml:1:1: missing required key \"pipelines\""));
}

TEST(LoadErrors, ThreeErrorsAllReportedInOrder) {
  EXPECT_THAT(
      errorsOf(R"yaml(sources:
  demo:
    kind: generator
    keys: many
pipelines:
  volume:
    from: demo
    window: { tumbling: 1x }
    aggregates:
      total: sum(price)
)yaml"),
      ElementsAre("t.yaml:4:11: sources.demo.keys: \"many\" is not an integer",
                  "t.yaml:8:25: pipelines.volume.window.tumbling: \"1x\" is not a duration (use "
                  "e.g. 500ms, 10s, 1m)",
                  "t.yaml:10:14: pipelines.volume.aggregates.total: \"price\" is not a field of "
                  "generator source \"demo\" (fields: ts, key, value)"));
}

TEST(LoadErrors, OrderIsFileOrderNotSectionOrder) {
  EXPECT_THAT(
      errorsOf(R"yaml(pipelines:
  p: { from: demo, window: { tumbling: 1x }, aggregates: { n: count() } }
sources:
  demo: { kind: generator, keys: 0 }
daemon: { stages: 0 }
)yaml"),
      ElementsAre("t.yaml:2:40: pipelines.p.window.tumbling: \"1x\" is not a duration (use e.g. "
                  "500ms, 10s, 1m)",
                  "t.yaml:4:34: sources.demo.keys: \"0\" is out of range (expected an integer >= "
                  "1)",
                  "t.yaml:5:19: daemon.stages: \"0\" is out of range (expected an integer in "
                  "1..256)"));
}

TEST(LoadErrors, YamlSyntaxError) {
  EXPECT_THAT(errorsOf(R"yaml(sources:
  demo: { kind: generator
pipelines: {}
)yaml"),
              ElementsAre("t.yaml:3:10: invalid YAML: end of map flow not found"));
  EXPECT_THAT(errorsOf(R"yaml(sources:
  demo:
    kind: generator
   keys: 5
)yaml"),
              ElementsAre("t.yaml:4:4: invalid YAML: end of map not found"));
}

TEST(LoadErrors, DuplicateKeys) {
  EXPECT_THAT(
      errorsOf(R"yaml(sources:
  demo:
    kind: generator
    keys: 10
    keys: 20
  demo:
    kind: file
pipelines:
  p:
    from: demo
    window: { tumbling: 1s, tumbling: 2s }
    aggregates: { n: count(), n: sum(value) }
  p:
    from: demo
)yaml"),
      ElementsAre(
          "t.yaml:5:5: sources.demo.keys: duplicate key \"keys\" (first defined on line 4)",
          "t.yaml:6:3: sources.demo: duplicate key \"demo\" (first defined on line 2)",
          "t.yaml:11:29: pipelines.p.window.tumbling: duplicate key \"tumbling\" (first defined "
          "on line 11)",
          "t.yaml:12:31: pipelines.p.aggregates.n: duplicate key \"n\" (first defined on line 12)",
          "t.yaml:13:3: pipelines.p: duplicate key \"p\" (first defined on line 9)"));
}

TEST(LoadErrors, WhereExpressions) {
  EXPECT_THAT(errorsOf(R"yaml(sources: { s: { kind: file, path: x }, g: { kind: generator } }
pipelines:
  syntax:
    from: s
    where: "qty > 0 and and side == 'buy'"
    window: { tumbling: 1s }
    aggregates: { n: count() }
  not_bool:
    from: s
    where: qty * 2
    window: { tumbling: 1s }
    aggregates: { n: count() }
  types:
    from: s
    where: "lowr(side) == 'buy' or qty + 'x' > 1"
    window: { tumbling: 1s }
    aggregates: { n: count() }
  nested:
    from: s
    where: "order.qty > 0"
    window: { tumbling: 1s }
    aggregates: { n: count() }
  generator:
    from: g
    where: "price > 0"
    window: { tumbling: 1s }
    aggregates: { n: count() }
)yaml"),
              ElementsAre("t.yaml:5:25: pipelines.syntax.where: expected a value, got \"and\"",
                          "t.yaml:10:12: pipelines.not_bool.where: expected a bool, got number qty "
                          "* 2",
                          "t.yaml:15:13: pipelines.types.where: unknown function \"lowr\" (did "
                          "you mean \"lower\"?)",
                          "t.yaml:15:42: pipelines.types.where: expected a number, got string 'x'",
                          "t.yaml:25:12: pipelines.generator.where: \"price\" is not a field of "
                          "generator source \"g\" (fields: ts, key, value)"));
}

TEST(LoadErrors, LateTopic) {
  EXPECT_THAT(errorsOf(R"yaml(sources: { s: { kind: file, path: x } }
pipelines:
  p:
    from: s
    window: { tumbling: 1s }
    late: { topic: yes please, topics: true }
    aggregates: { n: count() }
  q:
    from: s
    window: { tumbling: 1s }
    late: true
    aggregates: { n: count() }
)yaml"),
              ElementsAre("t.yaml:6:20: pipelines.p.late.topic: \"yes please\" is not a boolean "
                          "(use true or false)",
                          "t.yaml:6:32: pipelines.p.late.topics: unknown key \"topics\" (did you "
                          "mean \"topic\"?)",
                          "t.yaml:11:11: pipelines.q.late: expected a map, got \"true\""));
}

TEST(LoadErrors, UnknownFormatAndEmit) {
  EXPECT_THAT(
      errorsOf(R"yaml(sources:
  s: { kind: file, path: x, format: xml }
pipelines:
  p: { from: s, window: { tumbling: 1s }, aggregates: { n: count() }, emit: fnal }
)yaml"),
      ElementsAre("t.yaml:2:37: sources.s.format: \"xml\" is not a format (supported: json, csv)",
                  "t.yaml:4:77: pipelines.p.emit: \"fnal\" is not an emit mode (did you mean "
                  "\"final\"?)"));
}

TEST(LoadErrors, WrongNodeTypes) {
  EXPECT_THAT(
      errorsOf(R"yaml(daemon: [metrics]
sources:
  s:
    kind: generator
    keys: { n: 1 }
    time: ts
    watermark: [1s]
pipelines:
  p:
    from: { s: 1 }
    group_by: { key: 1 }
    window: 1m
    aggregates: [count()]
)yaml"),
      ElementsAre("t.yaml:1:9: daemon: expected a map, got a list",
                  "t.yaml:5:11: sources.s.keys: expected an integer, got a map",
                  "t.yaml:6:11: sources.s.time: expected a map, got \"ts\"",
                  "t.yaml:7:16: sources.s.watermark: expected a map, got a list",
                  "t.yaml:10:11: pipelines.p.from: expected a string or a list, got a map",
                  "t.yaml:11:15: pipelines.p.group_by: expected a string or a list, got a map",
                  "t.yaml:12:13: pipelines.p.window: expected a map, got \"1m\"",
                  "t.yaml:13:17: pipelines.p.aggregates: expected a map, got a list"));
}

TEST(LoadErrors, EmptyValues) {
  EXPECT_THAT(
      errorsOf(R"yaml(sources:
  s:
    kind:
pipelines:
  p:
    from:
    window:
    aggregates:
)yaml"),
      ElementsAre("t.yaml:3:5: sources.s.kind: expected a source kind, got an empty value",
                  "t.yaml:6:5: pipelines.p.from: at least one source is required",
                  "t.yaml:7:5: pipelines.p.window: missing \"tumbling\", \"hopping\" or "
                  "\"session\" (e.g. tumbling: 1m)",
                  "t.yaml:8:5: pipelines.p.aggregates: at least one aggregate is required"));
  EXPECT_THAT(errorsOf("sources:\npipelines: {}\n"),
              ElementsAre("t.yaml:1:1: sources: at least one source is required",
                          "t.yaml:2:12: pipelines: at least one pipeline is required"));
}

TEST(LoadErrors, Names) {
  const std::string long_name(65, 'a');
  const std::string ok_name(64, 'b');
  EXPECT_THAT(
      errorsOf("sources:\n"
               "  _private: { kind: generator }\n"
               "  a/b: { kind: generator }\n"
               "  " +
               long_name +
               ": { kind: generator }\n"
               "  " +
               ok_name +
               ": { kind: generator }\n"
               "pipelines:\n"
               "  -dash: { from: " +
               ok_name + ", window: { tumbling: 1s }, aggregates: { n: count() } }\n"),
      ElementsAre("t.yaml:2:3: sources._private: \"_private\" is not a valid source name (names "
                  "starting with '_' are reserved)",
                  "t.yaml:3:3: sources.a/b: \"a/b\" is not a valid source name (\"/\" is not "
                  "allowed; use letters, digits, '_', '.', '-')",
                  "t.yaml:4:3: sources." + long_name + ": \"" + std::string(60, 'a') +
                      "...\" is too long for a source name (at most 64 characters)",
                  "t.yaml:7:3: pipelines.-dash: \"-dash\" is not a valid pipeline name (it must "
                  "start with a letter or digit)"));
}

TEST(LoadErrors, WholeFileProblems) {
  EXPECT_THAT(errorsOf(""), ElementsAre("t.yaml:1:1: the config is empty (expected a map with "
                                        "\"sources\" and \"pipelines\")"));
  EXPECT_THAT(errorsOf("# nothing but a comment\n"),
              ElementsAre("t.yaml:1:1: the config is empty (expected a map with \"sources\" and "
                          "\"pipelines\")"));
  EXPECT_THAT(errorsOf("just text\n"),
              ElementsAre("t.yaml:1:1: expected a map, got \"just text\""));
  EXPECT_THAT(errorsOf("sources: {}\n---\npipelines: {}\n"),
              ElementsAre("t.yaml:2:1: only one YAML document is allowed in a config file"));
  // yaml-cpp's parser starts empty documents here forever (found by the config fuzzer: it ran
  // out of memory); refused where it gets stuck.
  EXPECT_THAT(errorsOf(","), ElementsAre("t.yaml:1:1: invalid YAML: unexpected \",\""));
  EXPECT_THAT(errorsOf("[a, b],\n"), ElementsAre("t.yaml:1:7: invalid YAML: unexpected \",\""));
  EXPECT_THAT(errorsOf("sources: {}\n---\n,"),
              ElementsAre("t.yaml:2:1: only one YAML document is allowed in a config file"));
  EXPECT_THAT(errorsOf("[a]: 1\n"), ElementsAre("t.yaml:1:1: expected a string key, got a list",
                                                "t.yaml:1:1: missing required key \"sources\"",
                                                "t.yaml:1:1: missing required key \"pipelines\""));
}

TEST(LoadErrors, LongValuesAreCut) {
  const std::string kind(100, 'k');
  EXPECT_THAT(errorsOf("sources:\n  s:\n    kind: " + kind +
                       "\npipelines:\n  p: { from: s, window: { tumbling: 1s }, aggregates: { n: "
                       "count() } }\n"),
              ElementsAre("t.yaml:3:11: sources.s.kind: \"" + std::string(60, 'k') +
                          "...\" is not a source kind (supported: generator, file, tcp, udp, zmq, "
                          "kafka)"));
}

}  // namespace
}  // namespace rivulet::config

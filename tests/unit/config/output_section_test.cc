// `outputs:`: what the loader makes of it, and the exact message of every mistake.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "config/loader.h"
#include "tests/unit/config/errors_of.h"

namespace rivulet::config {
namespace {

using ::testing::ElementsAre;

constexpr std::string_view kHead =
    "sources:\n"
    "  gen: {kind: generator}\n"
    "pipelines:\n"
    "  per_key: {from: gen, group_by: [key], window: {tumbling: 1s}, aggregates: {n: count()}}\n"
    "  inner: {from: gen, window: {tumbling: 1s}, aggregates: {n: count()}, publish: false}\n"
    "  outer: {from: inner, window: upstream, aggregates: {n: sum(n)}}\n"
    "outputs:\n";  // 7 lines

TEST(OutputSection, FileOutputsNameTheirPipelines) {
  const LoadResult result = loadString(std::string(kHead) +
                                           "  a: {kind: file, path: a.jsonl, pipelines: [outer]}\n"
                                           "  b:\n"
                                           "    kind: file\n"
                                           "    path: '-'\n",
                                       "t.yaml");
  for (const ConfigError& e : result.errors) ADD_FAILURE() << e.toString();
  ASSERT_TRUE(result.config.has_value());
  ASSERT_EQ(result.config->outputs.size(), 2u);
  EXPECT_EQ(result.config->outputs[0].name, "a");
  EXPECT_EQ(result.config->outputs[0].path, "a.jsonl");
  EXPECT_THAT(result.config->outputs[0].pipelines, ElementsAre("outer"));
  EXPECT_EQ(result.config->outputs[1].path, "-");
  EXPECT_TRUE(result.config->outputs[1].pipelines.empty()) << "every pipeline";
}

TEST(OutputSection, KafkaOutputs) {
  const LoadResult result = loadString(std::string(kHead) +
                                           "  k:\n"
                                           "    kind: kafka\n"
                                           "    brokers: 127.0.0.1:9092\n"
                                           "    topic: results\n"
                                           "    delivery: at_least_once\n"
                                           "    markers: true\n"
                                           "    properties: {compression.type: lz4}\n",
                                       "t.yaml");
  for (const ConfigError& e : result.errors) ADD_FAILURE() << e.toString();
  ASSERT_TRUE(result.config.has_value());
  const OutputSpec& k = result.config->outputs.at(0);
  EXPECT_EQ(k.kind, OutputKind::kKafka);
  EXPECT_EQ(k.brokers, "127.0.0.1:9092");
  EXPECT_EQ(k.topic, "results");
  EXPECT_TRUE(k.markers);
  EXPECT_FALSE(k.late);
  EXPECT_THAT(k.properties,
              ElementsAre(std::pair<std::string, std::string>{"compression.type", "lz4"}));
}

TEST(OutputSection, KafkaMistakes) {
  EXPECT_THAT(
      errorsOf(std::string(kHead) +
               "  a: {kind: kafka, topic: r, delivery: exactly_once, path: x}\n"          // 8
               "  b: {kind: kafka, brokers: h:1, topic: r, properties: {acks: '1'}}\n"),  // 9
      ElementsAre("t.yaml:8:6: outputs.a: missing required key \"brokers\"",
                  "t.yaml:8:40: outputs.a.delivery: exactly_once is not available yet; "
                  "at_least_once is (README: Results in Kafka)",
                  "t.yaml:8:54: outputs.a.path: unknown key \"path\" (did you mean \"late\"?)",
                  "t.yaml:9:57: outputs.b.properties.acks: \"acks\" is set by rivulet (brokers "
                  "have a key of their own; at_least_once needs an idempotent producer "
                  "acknowledged by every replica)"));
}

TEST(OutputSection, MistakesAreReportedWhereTheyAre) {
  EXPECT_THAT(
      errorsOf(std::string(kHead) +
               "  a: {kind: ftp, path: a.jsonl}\n"                               // 8
               "  b: {kind: file, pipelines: [per_kee, inner, outer, outer]}\n"  // 9
               "  c: {kind: file, path: c.jsonl, pipelines: [], topic: x}\n"),   // 10
      ElementsAre(
          "t.yaml:8:13: outputs.a.kind: \"ftp\" is not an output kind (expected one of: file, "
          "kafka)",
          "t.yaml:9:6: outputs.b: missing required key \"path\"",
          "t.yaml:9:31: outputs.b.pipelines[0]: \"per_kee\" is not a pipeline (did you mean "
          "\"per_key\"?)",
          "t.yaml:9:40: outputs.b.pipelines[1]: pipeline \"inner\" has publish: false: it has no "
          "results here",
          "t.yaml:9:54: outputs.b.pipelines[3]: \"outer\" is listed twice",
          "t.yaml:10:45: outputs.c.pipelines: at least one pipeline is required (or leave it out)",
          "t.yaml:10:49: outputs.c.topic: unknown key \"topic\" (known keys: kind, path, "
          "pipelines)"));
}

}  // namespace
}  // namespace rivulet::config

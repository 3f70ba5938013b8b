// `outputs:` of kind kafka, against librdkafka's mock cluster: a bounded generator's results of
// the pipelines the output names go to the topic, each one message keyed by its result topic with
// the payload daemon.output writes; end-of-window markers too when asked, late events not. Every
// message is read back and compared with daemon.output's lines.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/support/mock_kafka.h"

namespace rivulet::testutil {
namespace {

using ::testing::HasSubstr;

TEST(DaemonKafkaOutput, ResultsOfTheNamedPipelinesGoToTheTopicKeyedByTheirTopic) {
  MockKafka kafka;
  kafka.createTopic("results", 3);
  TempDir dir;
  const std::string yaml = daemonYaml(dir, {.output = dir.file("all.jsonl")}) + "sources:\n" +
                           generatorYaml("gen", 5, 1000, 0, "    count: 6000\n") + "pipelines:\n" +
                           perKeyPipelineYaml("per_key", "gen") +
                           "  total:\n"
                           "    from: gen\n"
                           "    window: {tumbling: 2s}\n"
                           "    aggregates: {n: count()}\n"
                           "outputs:\n"
                           "  results:\n"
                           "    kind: kafka\n"
                           "    brokers: " +
                           kafka.bootstraps() +
                           "\n"
                           "    topic: results\n"
                           "    pipelines: [per_key]\n"
                           "    markers: true\n"
                           "    properties: {linger.ms: '5'}\n";
  Daemon daemon(dir, yaml);
  const auto exit_code = daemon.process().wait(60s);
  ASSERT_TRUE(exit_code.has_value()) << "a bounded input did not end the daemon:\n" << daemon.log();
  ASSERT_EQ(*exit_code, 0) << daemon.log();

  // What daemon.output has of per_key, by payload; and per_key's windows.
  std::map<std::string, int> want;
  std::map<std::string, int> windows;  // "start,end"
  for (const Result& r : parseResults(messagesFromJsonLines(readFile(dir.file("all.jsonl"))))) {
    if (r.pipeline != "per_key") continue;
    ++want[r.payload];
    windows[std::to_string(r.start) + "," + std::to_string(r.end)] = 1;
  }
  ASSERT_FALSE(want.empty());
  std::size_t results = 0;
  for (const auto& [payload, n] : want) results += static_cast<std::size_t>(n);

  const auto messages = kafka.read("results", 3, results + windows.size(), 30s);
  std::map<std::string, int> got;
  std::size_t markers = 0;
  for (const auto& [key, value] : messages) {
    if (key == "_window/per_key/") {
      ++markers;
      EXPECT_THAT(value, HasSubstr("\"pipeline\":\"per_key\"")) << value;
      continue;
    }
    ++got[value];
    const std::vector<Result> parsed = parseResults(messagesFromJsonLines(value + "\n"));
    ASSERT_EQ(parsed.size(), 1u) << value;
    ASSERT_EQ(parsed[0].key.size(), 1u) << value;
    EXPECT_EQ(key, "per_key/" + parsed[0].key[0].second + "/") << value;
  }
  EXPECT_EQ(got, want) << "every result of per_key once, as daemon.output has it; no other";
  EXPECT_EQ(markers, windows.size()) << "one end-of-window marker per window";
  EXPECT_THAT(daemon.log(),
              HasSubstr("final count: rivulet_output_delivered_total{output=\"results\"} " +
                        std::to_string(results + windows.size()) + "\n"));
  EXPECT_THAT(daemon.log(), Not(HasSubstr("rivulet_output_errors_total{output=\"results\"} 1")));
}

}  // namespace
}  // namespace rivulet::testutil

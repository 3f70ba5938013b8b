// `outputs:` of kind kafka, against librdkafka's mock cluster:
// - a bounded generator's results of the pipelines the output names go to the topic, each one
//   message keyed by its result topic with the payload daemon.output writes; end-of-window
//   markers too when asked, late events not;
// - Kafka in, Kafka out, at_least_once: SIGKILL at random points, a restart each time: every
//   window reaches the topic, any twice with the same values (a source's offsets are committed
//   only once the results before them are acknowledged);
// - a broker outage holds the results (the publisher waits, beating its heartbeat) and loses
//   none, and the idempotent producer writes none twice.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/integration/harness/kafka_stream.h"
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
                           "    aggregates: {n: count()}\n" +
                           kafkaOutputYaml(kafka,
                                           "    pipelines: [per_key]\n"
                                           "    markers: true\n"
                                           "    properties: {linger.ms: '5'}\n");
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

// The messages of a results topic as result messages, keyed by their topic string; those of
// the stream's closing events left out.
std::vector<Result> streamResults(
    const std::vector<std::pair<std::string, std::string>>& messages) {
  std::vector<Message> parsed;
  for (const auto& [key, value] : messages) parsed.push_back({key, value});
  std::vector<Result> results;
  for (Result& r : parseResults(parsed)) {
    if (!(r.key.size() == 1 && r.key[0].second == "close")) results.push_back(std::move(r));
  }
  return results;
}

// A Kafka source in, a Kafka output out (at_least_once), SIGKILL a few times at random points
// once offsets have been committed, a restart each time. The output lingers 300 ms before it
// sends, longer than the source's commit interval, so a commit that did not wait for the
// output's acknowledgements would take offsets whose results die with the process. Read back
// from the topic alone: every window of the reference, with its values; a window sent again by
// a restart has the same values.
TEST(DaemonKafkaOutput, KafkaInKafkaOutSurvivesKillsWithEveryWindowAtLeastOnce) {
  std::mt19937 random(::testing::UnitTest::GetInstance()->random_seed());
  const auto uniform = [&](int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(random);
  };
  MockKafka kafka;
  ASSERT_NO_FATAL_FAILURE(kafka.createTopic("results", 3));
  Stream stream(kafka, 3, ::testing::UnitTest::GetInstance()->random_seed());
  ASSERT_NO_FATAL_FAILURE(stream.startTopic(uniform(1000, 3000)));
  TempDir dir;
  std::vector<std::string> outputs;
  const auto config = [&](int run) {
    const std::string output = "out" + std::to_string(run) + ".jsonl";
    outputs.push_back(dir.file(output));
    return configYaml(dir, kafka, output) +
           kafkaOutputYaml(kafka, "    properties: {linger.ms: '300'}\n");
  };
  constexpr int kKills = 3;
  for (int kill = 0; kill < kKills; ++kill) {
    Daemon daemon(dir, config(kill));
    ASSERT_TRUE(daemon.waitReady());
    // Read to the end of every partition, then later events: the watermark passes the windows
    // read, they are sent, and the offsets read are committed once the output holds them.
    std::string error;
    ASSERT_TRUE(daemon.scrapeUntil(
        [](const Metrics& scraped) {
          const std::vector<Sample> lag = scraped.all("rivulet_kafka_consumer_lag");
          return lag.size() == 3 &&
                 std::all_of(lag.begin(), lag.end(), [](const Sample& s) { return s.value == 0; });
        },
        60s, &error))
        << error;
    ASSERT_NO_FATAL_FAILURE(stream.produce(uniform(500, 2000), {0, 1, 2}));
    ASSERT_TRUE(kafka.flush());
    // Killed at the first commit, or once up to 200 results are delivered after it: results in
    // the output's queue, waiting to be acknowledged.
    Metrics seen;
    ASSERT_TRUE(daemon.waitMetric("rivulet_kafka_commits_total",
                                  {{"source", "trades"}, {"result", "ok"}}, 1, 60s, &seen))
        << "events read " << seen.valueOr0("rivulet_source_events_total", {{"source", "trades"}})
        << ", results delivered "
        << seen.valueOr0("rivulet_output_delivered_total", {{"output", "results"}});
    const double delivered =
        seen.valueOr0("rivulet_output_delivered_total", {{"output", "results"}}) + uniform(0, 200);
    ASSERT_TRUE(daemon.scrapeUntil(
        [&](const Metrics& scraped) {
          return scraped.valueOr0("rivulet_output_delivered_total", {{"output", "results"}}) >=
                     delivered ||
                 scraped.valueOr0("rivulet_output_queue_messages", {{"output", "results"}}) == 0;
        },
        60s, &error))
        << error;
    ASSERT_TRUE(daemon.process().signal(SIGKILL));
    ASSERT_EQ(daemon.process().wait(30s), 128 + SIGKILL);
  }
  ASSERT_NO_FATAL_FAILURE(stream.produce(1000, {0, 1, 2}));
  ASSERT_NO_FATAL_FAILURE(stream.closeWindows({0, 1, 2}));
  ASSERT_TRUE(kafka.flush());
  Daemon last(dir, config(kKills));
  ASSERT_TRUE(last.waitReady());
  ASSERT_TRUE(waitForFinals(outputs, stream.reference.windows().size()));
  ASSERT_NO_FATAL_FAILURE(stop(last));  // its results acknowledged before it exits
  expectEveryWindow(streamResults(kafka.readAll("results", 3, 60s)), stream, true);
}

// The output's brokers go down while results flow, long enough for the producer's queue
// (50 messages here) to fill: the publisher waits for room, beating its heartbeat, and the
// generator is slowed through the rings rather than anything dropped. Brought up again, every
// result reaches the topic once, as daemon.output has it.
TEST(DaemonKafkaOutput, BrokerOutageHoldsResultsAndLosesNone) {
  MockKafka out;
  ASSERT_NO_FATAL_FAILURE(out.createTopic("results", 2));
  TempDir dir;
  const std::string yaml = daemonYaml(dir, {.output = dir.file("all.jsonl")}) + "sources:\n" +
                           generatorYaml("gen", 20, 1000, 20000, "    count: 200000\n") +
                           "pipelines:\n" + perKeyPipelineYaml("per_key", "gen") +
                           kafkaOutputYaml(out,
                                           "    properties: {queue.buffering.max.messages: '50', "
                                           "linger.ms: '1'}\n");
  Daemon daemon(dir, yaml);
  ASSERT_TRUE(daemon.waitReady());
  ASSERT_TRUE(daemon.waitMetric("rivulet_output_delivered_total", {{"output", "results"}}, 1, 60s));
  ASSERT_NO_FATAL_FAILURE(out.setDown(true));
  ASSERT_TRUE(daemon.waitMetric("rivulet_output_queue_messages", {{"output", "results"}}, 50, 60s))
      << "the producer's queue never filled";
  // Three seconds with the queue full: a publisher held without beating would show it.
  const auto full_since = std::chrono::steady_clock::now();
  std::string error;
  const auto held = daemon.scrapeUntil(
      [&](const Metrics&) { return std::chrono::steady_clock::now() - full_since > 3s; }, 60s,
      &error);
  ASSERT_TRUE(held) << error;
  EXPECT_LT(held->valueOr0("rivulet_thread_heartbeat_age_seconds", {{"thread", "publisher"}}), 1.0)
      << "the publisher stopped beating while it waited for the brokers";
  EXPECT_GE(held->valueOr0("rivulet_output_queue_messages", {{"output", "results"}}), 50);
  EXPECT_LT(held->valueOr0("rivulet_source_events_total", {{"source", "gen"}}), 200000)
      << "the generator was not held back";
  ASSERT_NO_FATAL_FAILURE(out.setDown(false));

  const auto exit_code = daemon.process().wait(120s);
  ASSERT_TRUE(exit_code.has_value()) << "a bounded input did not end the daemon:\n" << daemon.log();
  ASSERT_EQ(*exit_code, 0) << daemon.log();
  std::map<std::string, int> want;
  std::size_t results = 0;
  for (const Result& r : parseResults(messagesFromJsonLines(readFile(dir.file("all.jsonl"))))) {
    ++want[r.payload];
    ++results;
  }
  std::map<std::string, int> got;
  for (const auto& [key, value] : out.readAll("results", 2, 60s)) ++got[value];
  EXPECT_EQ(got, want) << "every result once, none lost or written twice";
  EXPECT_THAT(daemon.log(),
              HasSubstr("final count: rivulet_output_delivered_total{output=\"results\"} " +
                        std::to_string(results) + "\n"));
}

}  // namespace
}  // namespace rivulet::testutil

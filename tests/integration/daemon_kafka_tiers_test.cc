// Two tiers over Kafka (docs/scaling.md), against librdkafka's mock cluster: two first-tier
// instances share the input topic as a consumer group (the second joins mid-stream, so some
// windows are sent by both) and write their per-key window results to a results topic; a
// second-tier instance reads that topic and computes the global top 10 keys of every window.
// Its results are checked against a brute-force top 10 over the raw events: each window once,
// the right keys and counts, whatever the first tier sent twice.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/integration/harness/kafka_stream.h"
#include "tests/support/mock_kafka.h"

namespace rivulet::testutil {
namespace {

constexpr int kTop = 10;

// The second tier: each first-tier result is an event; a key's result sent twice (after a
// rebalance or a crash) carries the same count, so max() counts it once.
std::string secondTier(const TempDir& dir, const MockKafka& kafka) {
  return daemonYaml(dir, {.output = dir.file("global.jsonl")}) +
         "sources:\n"
         "  results:\n"
         "    kind: kafka\n"
         "    brokers: " +
         kafka.bootstraps() +
         "\n"
         "    topics: [results]\n"
         "    group: rivulet-global\n"
         "    time: {field: start, unit: ms}\n"
         // The first tier's instances are at different points of event time, up to the ~10 s
         // that each partition's events span: the delay covers that, and idle closes the last
         // windows once the results stop.
         "    watermark: {delay: 20s, idle: 1s}\n"
         "pipelines:\n"
         "  global:\n"
         "    from: results\n"
         "    group_by:\n"
         "      - sym: key.sym\n"
         "    window: {tumbling: 1s}\n"
         "    aggregates:\n"
         "      n: max(values.n)\n"
         "    top: {n: " +
         std::to_string(kTop) + ", by: n}\n";
}

// Of each window's keys, those whose count is at least the kTop-th largest (ties kept), with
// their counts.
std::map<std::int64_t, std::map<std::string, std::int64_t>> referenceTop(const Stream& stream) {
  std::map<std::int64_t, std::vector<std::pair<std::string, std::int64_t>>> by_window;
  for (const auto& [id, state] : stream.reference.windows()) {
    by_window[id.start].emplace_back(id.key.at(0), state.count);
  }
  std::map<std::int64_t, std::map<std::string, std::int64_t>> top;
  for (auto& [start, keys] : by_window) {
    std::sort(keys.begin(), keys.end(),
              [](const auto& a, const auto& b) { return a.second > b.second; });
    const std::int64_t bar = keys[std::min<std::size_t>(kTop, keys.size()) - 1].second;
    for (const auto& [key, count] : keys) {
      if (count >= bar) top[start][key] = count;
    }
  }
  return top;
}

TEST(DaemonKafkaTiers, SecondTierComputesTheGlobalTopTenOfEveryWindowOnce) {
  MockKafka kafka;
  ASSERT_NO_FATAL_FAILURE(kafka.createTopic("results", 4));
  Stream stream(kafka, 4, 21);
  ASSERT_NO_FATAL_FAILURE(stream.startTopic(4000));
  const std::string cooperative = "      partition.assignment.strategy: cooperative-sticky\n";
  TempDir dir_a, dir_b, dir_global;
  Daemon global(dir_global, secondTier(dir_global, kafka));
  ASSERT_TRUE(global.waitReady());
  Daemon a(dir_a, configYaml(dir_a, kafka, "out.jsonl", cooperative) +
                      kafkaOutputYaml(kafka, "    pipelines: [trades]\n"));
  ASSERT_TRUE(a.waitReady());
  ASSERT_TRUE(a.waitMetric("rivulet_source_events_total", {{"source", "trades"}}, 4000, 60s));
  Daemon b(dir_b, configYaml(dir_b, kafka, "out.jsonl", cooperative) +
                      kafkaOutputYaml(kafka, "    pipelines: [trades]\n"));
  ASSERT_TRUE(b.waitReady());
  ASSERT_TRUE(waitForPartition(b)) << "b";
  ASSERT_NO_FATAL_FAILURE(stream.produce(4000, {0, 1, 2, 3}));
  ASSERT_NO_FATAL_FAILURE(stream.closeWindows({0, 1, 2, 3}));
  ASSERT_TRUE(kafka.flush());
  ASSERT_TRUE(waitForFinals({dir_a.file("out.jsonl"), dir_b.file("out.jsonl")},
                            stream.reference.windows().size()));

  // The second tier closes its windows once the first tier's results stop for its idle time.
  const auto want = referenceTop(stream);
  std::size_t want_results = 0;
  for (const auto& [start, keys] : want) want_results += keys.size();
  const auto globalResults = [&] {
    std::string text = readFile(dir_global.file("global.jsonl"));
    text.resize(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
    std::vector<Result> results;
    for (Result& r : parseResults(messagesFromJsonLines(text))) {
      if (r.key.at(0).second != "close") results.push_back(std::move(r));
    }
    return results;
  };
  if (!waitUntil([&] { return globalResults().size() >= want_results; }, 90s)) {
    Metrics seen;
    global.waitMetric("rivulet_source_events_total", {{"source", "results"}}, 1e9, 1s, &seen);
    FAIL() << globalResults().size() << " of " << want_results << " global results; read "
           << seen.valueOr0("rivulet_source_events_total", {{"source", "results"}}) << ", refused "
           << seen.sum("rivulet_source_errors_total") << " and "
           << seen.sum("rivulet_pipeline_refused_total") << ", late "
           << seen.sum("rivulet_pipeline_late_events_total");
  }
  std::size_t repeated = 0;
  distinctFinals(readResults({dir_a.file("out.jsonl"), dir_b.file("out.jsonl")}), &repeated);
  // b re-read what a had read after its last commit, and sent those windows again.
  EXPECT_GT(repeated, 0u) << "the first tier sent no window twice: the test shows nothing";
  ASSERT_NO_FATAL_FAILURE(stop(a));
  ASSERT_NO_FATAL_FAILURE(stop(b));
  ASSERT_NO_FATAL_FAILURE(stop(global));

  std::map<std::int64_t, std::map<std::string, std::int64_t>> got;
  for (const Result& r : globalResults()) {
    EXPECT_EQ(r.kind, "final") << r.payload;
    EXPECT_EQ(r.end - r.start, 1000) << r.payload;
    const auto [it, inserted] = got[r.start].emplace(r.key.at(0).second, r.values.at("n").integer);
    EXPECT_TRUE(inserted) << "a key twice in one window: " << r.payload;
  }
  EXPECT_EQ(got, want) << "the global top " << kTop << " of every window, each once";
}

}  // namespace
}  // namespace rivulet::testutil

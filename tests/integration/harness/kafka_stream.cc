// The Kafka daemon tests' stream and checks (kafka_stream.h).
#include "tests/integration/harness/kafka_stream.h"

#include <signal.h>

#include <map>
#include <numeric>
#include <set>
#include <tuple>

#include "tests/integration/harness/daemon_yaml.h"
#include "tests/support/wait.h"

namespace rivulet::testutil {

std::string configYaml(const TempDir& dir, const MockKafka& kafka, const std::string& output,
                       const std::string& extra_properties, const std::string& extra_daemon,
                       const std::string& idle) {
  return daemonYaml({.publish = "ipc://" + dir.file(output + ".ipc"),
                     .output = dir.file(output),
                     .more = extra_daemon}) +
         "sources:\n  trades:\n    kind: kafka\n    brokers: " + kafka.bootstraps() +
         "\n    topics: [" + kTopic +
         "]\n    group: rivulet-test\n"
         "    commit_interval: 200ms\n"
         "    time: {field: ts, unit: ms}\n"
         "    watermark: {delay: 0s, idle: " +
         idle +
         "}\n"
         "    properties:\n"
         "      session.timeout.ms: \"6000\"\n"
         "      heartbeat.interval.ms: \"500\"\n" +
         extra_properties +
         "pipelines:\n"
         "  trades:\n"
         "    from: trades\n"
         "    group_by: [sym]\n"
         "    window: {tumbling: 1s}\n"
         "    aggregates:\n"
         "      n: count()\n"
         "      total: sum(px)\n"
         "      high: max(px)\n"
         "      open: first(px)\n";
}

std::string kafkaOutputYaml(const MockKafka& kafka, const std::string& more) {
  return "outputs:\n  results:\n    kind: kafka\n    brokers: " + kafka.bootstraps() +
         "\n    topic: results\n" + more;
}

std::string sym(int key) { return "S" + std::to_string(key); }

Stream::Stream(MockKafka& kafka, int partitions, std::uint64_t seed)
    : kafka_(kafka), partitions_(partitions), rng_(seed), clock_(partitions, kBase) {}

void Stream::produce(int events, const std::vector<int>& used) {
  for (int i = 0; i < events; ++i) {
    const int key = keyOn(used[uniform(0, static_cast<int>(used.size()) - 1)]);
    const int partition = partitionOf(key, partitions_);
    const std::int64_t ts = clock_[partition] += uniform(0, 20);
    const double px = uniform(1, 4000) / 8.0;
    const std::string value = "{\"ts\":" + std::to_string(ts) + ",\"sym\":\"" + sym(key) +
                              "\",\"px\":" + std::to_string(px) + "}";
    kafka_.produce(kTopic, partition, sym(key), value);
    reference.add(ts, {sym(key)}, px);
  }
}

void Stream::startTopic(int events) {
  ASSERT_NO_FATAL_FAILURE(kafka_.createTopic(kTopic, partitions_));
  std::vector<int> all(static_cast<std::size_t>(partitions_));
  std::iota(all.begin(), all.end(), 0);
  ASSERT_NO_FATAL_FAILURE(produce(events, all));
  ASSERT_TRUE(kafka_.flush());
}

void Stream::closeWindows(const std::vector<int>& used) {
  for (const int partition : used) {
    const std::string value =
        "{\"ts\":" + std::to_string(kBase + 3'600'000) + ",\"sym\":\"close\",\"px\":0}";
    kafka_.produce(kTopic, partition, "close", value);
  }
}

int Stream::keyOn(int partition) {
  for (;;) {
    const int key = uniform(0, kKeys - 1);
    if (partitionOf(key, partitions_) == partition) return key;
  }
}

std::vector<Result> readResults(const std::vector<std::string>& outputs) {
  std::vector<Result> results;
  for (const std::string& output : outputs) {
    // A daemon still running may be mid-line: only whole lines are results yet.
    std::string text = readFile(output);
    text.resize(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
    for (Result& r : parseResults(messagesFromJsonLines(text))) {
      if (r.pipeline == "trades" && !(r.key.size() == 1 && r.key[0].second == "close")) {
        results.push_back(std::move(r));
      }
    }
  }
  return results;
}

std::vector<Result> distinctFinals(const std::vector<Result>& results, std::size_t* repeated) {
  std::map<std::tuple<std::int64_t, std::int64_t, std::string>, const Result*> first;
  std::vector<Result> out;
  *repeated = 0;
  for (const Result& r : results) {
    if (r.kind != "final") continue;
    const auto [it, inserted] = first.emplace(std::tuple{r.start, r.end, r.key.at(0).second}, &r);
    if (inserted) {
      out.push_back(r);
      continue;
    }
    ++*repeated;
    for (const auto& [name, value] : it->second->values) {
      EXPECT_EQ(r.values.at(name).number, value.number)
          << name << " differs between two publications of " << r.payload;
    }
  }
  return out;
}

std::size_t countFinals(const std::vector<std::string>& outputs) {
  std::set<std::tuple<std::int64_t, std::string>> windows;
  for (const Result& r : readResults(outputs)) {
    if (r.kind == "final") windows.emplace(r.start, r.key.at(0).second);
  }
  return windows.size();
}

::testing::AssertionResult waitForFinals(const std::vector<std::string>& outputs,
                                         std::size_t windows) {
  if (waitUntil([&] { return countFinals(outputs) >= windows; }, 90s)) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << countFinals(outputs) << " of " << windows << " windows published as final";
}

::testing::AssertionResult waitForPartition(Daemon& daemon) {
  std::string error;
  if (daemon.scrapeUntil(
          [](const Metrics& scraped) { return !scraped.all("rivulet_kafka_consumer_lag").empty(); },
          60s, &error)) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "no partition: " << error;
}

void stop(Daemon& daemon) {
  ASSERT_TRUE(daemon.process().signal(SIGTERM));
  const auto code = daemon.process().wait(60s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << daemon.log();
}

void expectEveryWindow(const std::vector<Result>& results, const Stream& stream,
                       bool repeats_allowed) {
  std::size_t repeated = 0;
  const std::vector<Result> finals = distinctFinals(results, &repeated);
  if (!repeats_allowed) {
    EXPECT_EQ(repeated, 0u) << "windows published twice";
  }
  expectResultsMatch(finals, "final", stream.reference, kAggregates,
                     [](const WindowId&) { return true; });
  std::int64_t counted = 0;
  for (const Result& r : finals) counted += r.values.at("n").integer;
  EXPECT_EQ(counted, stream.reference.events());
}

void expectJoiningInstanceLosesNoWindow(
    std::uint64_t seed, const std::function<std::string(const TempDir&)>& daemon_lines) {
  MockKafka kafka;
  const std::string cooperative = "      partition.assignment.strategy: cooperative-sticky\n";
  Stream stream(kafka, 4, seed);
  ASSERT_NO_FATAL_FAILURE(stream.startTopic(6000));

  TempDir dir_a, dir_b;
  const std::string out_a = dir_a.file("out.jsonl");
  const std::string out_b = dir_b.file("out.jsonl");
  Daemon a(dir_a, configYaml(dir_a, kafka, "out.jsonl", cooperative, daemon_lines(dir_a)));
  ASSERT_TRUE(a.waitReady());
  ASSERT_TRUE(a.waitMetric("rivulet_source_events_total", {{"source", "trades"}}, 6000, 60s));
  ASSERT_NO_FATAL_FAILURE(stream.produce(3000, {0, 1, 2, 3}));
  ASSERT_TRUE(kafka.flush());
  // With checkpoints, a commit needs a safe mark and a durable checkpoint after it.
  ASSERT_TRUE(a.waitMetric("rivulet_kafka_commits_total", {{"source", "trades"}, {"result", "ok"}},
                           1, 60s));

  Daemon b(dir_b, configYaml(dir_b, kafka, "out.jsonl", cooperative, daemon_lines(dir_b)));
  ASSERT_TRUE(b.waitReady());
  ASSERT_TRUE(waitForPartition(b)) << "b";
  ASSERT_NO_FATAL_FAILURE(stream.produce(3000, {0, 1, 2, 3}));
  ASSERT_NO_FATAL_FAILURE(stream.closeWindows({0, 1, 2, 3}));
  ASSERT_TRUE(kafka.flush());
  ASSERT_TRUE(waitForFinals({out_a, out_b}, stream.reference.windows().size()));
  // Read before stopping: when one instance leaves, the other takes its partitions over.
  const std::vector<Result> results = readResults({out_a, out_b});
  EXPECT_FALSE(readResults({out_b}).empty());
  std::string error;
  const auto metrics = a.scrapeUntil([](const Metrics&) { return true; }, 30s, &error);
  ASSERT_TRUE(metrics) << error;
  EXPECT_GE(metrics->valueOr0("rivulet_kafka_rebalances_total", {{"source", "trades"}}), 2)
      << "a was assigned its partitions, then gave some up";
  EXPECT_EQ(metrics->valueOr0("rivulet_checkpoints_total", {{"result", "failed"}}), 0);
  ASSERT_NO_FATAL_FAILURE(stop(a));
  ASSERT_NO_FATAL_FAILURE(stop(b));
  expectEveryWindow(results, stream, true);
}

}  // namespace rivulet::testutil

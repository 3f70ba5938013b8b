// The real daemon consuming from librdkafka's mock cluster (a Kafka-protocol broker on loopback
// inside the test) in a consumer group: every window checked against the brute-force reference;
// a partition without traffic does not stall the windows once idle; SIGKILL mid-stream and a
// restart lose no window and publish none with other values (at-least-once: committed offsets
// cover only published windows, and the replay floor keeps published windows from reopening);
// two instances in one group split the partitions and together publish every window once; with
// checkpoints, SIGKILL at random points several times and a restart each time resume exactly.
//
// Each partition's events are in time order (as a keyed producer writes them) and the watermark
// delay is 0, so no event is late whatever the interleaving of partitions: the reference is exact.
// Results are read from the daemons' JSON-lines outputs, which survive the daemons.
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/integration/harness/kafka.h"

namespace rivulet::itest {
namespace {

constexpr std::int64_t kBase = 1'700'000'000'000;  // ms
constexpr int kKeys = 24;
const std::string kTopic = "trades";

const std::vector<AggregateSpec> kAggregates = {
    {"n", Agg::kCount}, {"total", Agg::kSum}, {"high", Agg::kMax}, {"open", Agg::kFirst}};

std::string configYaml(const TempDir& dir, const MockKafka& kafka, const std::string& output,
                       const std::string& extra_properties = "",
                       const std::string& extra_daemon = "") {
  return "daemon:\n"
         "  metrics: 127.0.0.1:0\n"
         "  publish: ipc://" +
         dir.file(output + ".ipc") +
         "\n"
         "  output: " +
         dir.file(output) +
         "\n"
         "  stages: 2\n" +
         extra_daemon +
         "sources:\n"
         "  trades:\n"
         "    kind: kafka\n"
         "    brokers: " +
         kafka.bootstraps() +
         "\n"
         "    topics: [" +
         kTopic +
         "]\n"
         "    group: rivulet-test\n"
         "    commit_interval: 200ms\n"
         "    time: {field: ts, unit: ms}\n"
         "    watermark: {delay: 0s, idle: 5s}\n"
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

std::string sym(int key) { return "S" + std::to_string(key); }
// Keyed like a producer partitioning by the group-by key.
int partitionOf(int key, int partitions) { return key % partitions; }

// Events per partition in time order; the reference gets every one (none is late).
class Stream {
 public:
  Stream(MockKafka& kafka, int partitions, std::uint64_t seed)
      : kafka_(kafka), partitions_(partitions), rng_(seed), clock_(partitions, kBase) {}

  // `events` more events on the partitions in `used`, each partition's clock moving on by
  // 0..20 ms per event.
  void produce(int events, const std::vector<int>& used) {
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

  // An event far ahead on each partition in `used`: the watermark passes every window before.
  void closeWindows(const std::vector<int>& used) {
    for (const int partition : used) {
      const std::string value =
          "{\"ts\":" + std::to_string(kBase + 3'600'000) + ",\"sym\":\"close\",\"px\":0}";
      kafka_.produce(kTopic, partition, "close", value);
    }
  }

  WindowReference reference{"trades", {"sym"}, 1000, 1000};

 private:
  int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  int keyOn(int partition) {
    for (;;) {
      const int key = uniform(0, kKeys - 1);
      if (partitionOf(key, partitions_) == partition) return key;
    }
  }

  MockKafka& kafka_;
  int partitions_;
  std::mt19937 rng_;
  std::vector<std::int64_t> clock_;
};

// The results in the JSON-lines files `outputs`, but those of the closing events.
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

// One result per window: a window published again (by a restart, or another instance) must have
// the same values.
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

// Distinct windows published as final.
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

// Three partitions with traffic and one without: the silent one goes idle and stops holding the
// watermark back, so every window is published while the daemon runs. Poison messages are
// counted by reason and skipped.
TEST(DaemonKafka, EveryWindowMatchesTheReferenceWithAnIdlePartition) {
  MockKafka kafka;
  ASSERT_NO_FATAL_FAILURE(kafka.createTopic(kTopic, 4));
  Stream stream(kafka, 4, 1);
  ASSERT_NO_FATAL_FAILURE(stream.produce(3000, {0, 1, 2}));
  // Poison messages in between: counted by reason and skipped, the partition goes on.
  for (int partition = 0; partition < 3; ++partition) {
    ASSERT_NO_FATAL_FAILURE(kafka.produce(kTopic, partition, "x", "{\"ts\": 1, \"sym\": "));
    ASSERT_NO_FATAL_FAILURE(kafka.produce(kTopic, partition, "x", "[1, 2]"));
    ASSERT_NO_FATAL_FAILURE(kafka.produce(kTopic, partition, "x", ""));
    ASSERT_NO_FATAL_FAILURE(kafka.produce(kTopic, partition, "x", "{\"sym\": \"S1\"}"));
  }
  ASSERT_NO_FATAL_FAILURE(stream.produce(3000, {0, 1, 2}));
  ASSERT_NO_FATAL_FAILURE(stream.closeWindows({0, 1, 2}));
  ASSERT_TRUE(kafka.flush());

  TempDir dir;
  Daemon daemon(dir, configYaml(dir, kafka, "out.jsonl"));
  ASSERT_TRUE(daemon.waitReady());
  ASSERT_TRUE(waitForFinals({dir.file("out.jsonl")}, stream.reference.windows().size()));
  std::string error;
  const auto metrics = daemon.scrapeUntil([](const Metrics&) { return true; }, 30s, &error);
  ASSERT_TRUE(metrics) << error;
  EXPECT_EQ(metrics->valueOr0("rivulet_source_events_total", {{"source", "trades"}}), 6003);
  const auto errors = [&](const char* reason) {
    return metrics->valueOr0("rivulet_source_errors_total",
                             {{"source", "trades"}, {"reason", reason}});
  };
  EXPECT_EQ(errors("invalid_json"), 6);  // the cut object and the empty message
  EXPECT_EQ(errors("not_object"), 3);
  EXPECT_EQ(errors("missing_time"), 3);
  EXPECT_EQ(metrics->all("rivulet_kafka_consumer_lag").size(), 4u) << "a series per partition";
  EXPECT_EQ(
      metrics->valueOr0("rivulet_kafka_consumer_lag", {{"topic", kTopic}, {"partition", "0"}}), 0);
  ASSERT_NO_FATAL_FAILURE(stop(daemon));
  expectEveryWindow(readResults({dir.file("out.jsonl")}), stream, false);
}

// SIGKILL once some offsets are committed, then a restart in the same group: every window is
// published, and any published twice has the same values.
TEST(DaemonKafka, KillAndRestartLosesNoWindowAndChangesNone) {
  MockKafka kafka;
  ASSERT_NO_FATAL_FAILURE(kafka.createTopic(kTopic, 3));
  Stream stream(kafka, 3, 2);
  ASSERT_NO_FATAL_FAILURE(stream.produce(8000, {0, 1, 2}));
  ASSERT_TRUE(kafka.flush());

  TempDir dir;
  {
    Daemon first(dir, configYaml(dir, kafka, "out1.jsonl"));
    ASSERT_TRUE(first.waitReady());
    std::string error;
    ASSERT_TRUE(first.scrapeUntil(
        [](const Metrics& m) {
          return m.valueOr0("rivulet_source_events_total", {{"source", "trades"}}) >= 8000;
        },
        60s, &error))
        << error;
    // Later events on every partition move the watermark past the first ones' windows: those
    // are published, and their offsets committed.
    ASSERT_NO_FATAL_FAILURE(stream.produce(2000, {0, 1, 2}));
    ASSERT_TRUE(kafka.flush());
    ASSERT_TRUE(first.scrapeUntil(
        [](const Metrics& m) {
          return m.valueOr0("rivulet_kafka_commits_total",
                            {{"source", "trades"}, {"result", "ok"}}) >= 1;
        },
        60s, &error))
        << error;
    ASSERT_TRUE(first.process().signal(SIGKILL));
    ASSERT_TRUE(first.process().wait(30s).has_value());
  }
  ASSERT_NO_FATAL_FAILURE(stream.produce(2000, {0, 1, 2}));
  ASSERT_NO_FATAL_FAILURE(stream.closeWindows({0, 1, 2}));
  ASSERT_TRUE(kafka.flush());

  Daemon second(dir, configYaml(dir, kafka, "out2.jsonl"));
  ASSERT_TRUE(second.waitReady());
  ASSERT_TRUE(waitForFinals({dir.file("out1.jsonl"), dir.file("out2.jsonl")},
                            stream.reference.windows().size()));
  // The restart resumed from the committed offsets, not from the start.
  std::string error;
  const auto metrics = second.scrapeUntil([](const Metrics&) { return true; }, 30s, &error);
  ASSERT_TRUE(metrics) << error;
  EXPECT_LT(metrics->valueOr0("rivulet_source_events_total", {{"source", "trades"}}), 12'003);
  ASSERT_NO_FATAL_FAILURE(stop(second));
  expectEveryWindow(readResults({dir.file("out1.jsonl"), dir.file("out2.jsonl")}), stream, true);
}

// Two instances in one group split four partitions (cooperative-sticky assignment); keyed by
// the group-by key, each window is one instance's, and together they publish every one once.
TEST(DaemonKafka, TwoInstancesSplitThePartitionsAndPublishEveryWindowOnce) {
  MockKafka kafka;
  ASSERT_NO_FATAL_FAILURE(kafka.createTopic(kTopic, 4));
  const std::string cooperative = "      partition.assignment.strategy: cooperative-sticky\n";
  TempDir dir_a, dir_b;  // each daemon its own config, log and output
  Daemon a(dir_a, configYaml(dir_a, kafka, "out.jsonl", cooperative));
  Daemon b(dir_b, configYaml(dir_b, kafka, "out.jsonl", cooperative));
  const std::string out_a = dir_a.file("out.jsonl");
  const std::string out_b = dir_b.file("out.jsonl");
  ASSERT_TRUE(a.waitReady());
  ASSERT_TRUE(b.waitReady());
  // Both hold partitions (each reports lag for its own) before any event is produced.
  auto partitions = [](Daemon& d) {
    std::string error;
    const auto m = d.scrapeUntil([](const Metrics&) { return true; }, 10s, &error);
    return m ? m->all("rivulet_kafka_consumer_lag").size() : 0;
  };
  ASSERT_TRUE(waitUntil(
      [&] {
        const std::size_t in_a = partitions(a);
        const std::size_t in_b = partitions(b);
        return in_a > 0 && in_b > 0 && in_a + in_b == 4;
      },
      90s))
      << "a holds " << partitions(a) << ", b holds " << partitions(b);

  Stream stream(kafka, 4, 3);
  ASSERT_NO_FATAL_FAILURE(stream.produce(6000, {0, 1, 2, 3}));
  ASSERT_NO_FATAL_FAILURE(stream.closeWindows({0, 1, 2, 3}));
  ASSERT_TRUE(kafka.flush());
  ASSERT_TRUE(waitForFinals({out_a, out_b}, stream.reference.windows().size()));
  for (Daemon* d : {&a, &b}) {
    std::string error;
    const auto m = d->scrapeUntil([](const Metrics&) { return true; }, 30s, &error);
    ASSERT_TRUE(m) << error;
    EXPECT_EQ(m->valueOr0("rivulet_pipeline_late_events_total", {{"pipeline", "trades"}}), 0);
  }
  // Read before stopping: when one instance leaves, the other takes its partitions over and may
  // publish again what their uncommitted offsets cover.
  const std::vector<Result> results = readResults({out_a, out_b});
  EXPECT_FALSE(readResults({out_a}).empty());
  EXPECT_FALSE(readResults({out_b}).empty());
  ASSERT_NO_FATAL_FAILURE(stop(a));
  ASSERT_NO_FATAL_FAILURE(stop(b));
  expectEveryWindow(results, stream, false);
}

// A second instance joins while the first is consuming (cooperative-sticky: the first gives up
// half its partitions, restarts the rest from their commits): every window is still published,
// and any published by both, or twice, has the same values.
TEST(DaemonKafka, AnInstanceJoiningMidStreamLosesNoWindowAndChangesNone) {
  MockKafka kafka;
  ASSERT_NO_FATAL_FAILURE(kafka.createTopic(kTopic, 4));
  const std::string cooperative = "      partition.assignment.strategy: cooperative-sticky\n";
  Stream stream(kafka, 4, 4);
  ASSERT_NO_FATAL_FAILURE(stream.produce(6000, {0, 1, 2, 3}));
  ASSERT_TRUE(kafka.flush());

  TempDir dir_a, dir_b;
  const std::string out_a = dir_a.file("out.jsonl");
  const std::string out_b = dir_b.file("out.jsonl");
  Daemon a(dir_a, configYaml(dir_a, kafka, "out.jsonl", cooperative));
  ASSERT_TRUE(a.waitReady());
  std::string error;
  ASSERT_TRUE(a.scrapeUntil(
      [](const Metrics& m) {
        return m.valueOr0("rivulet_source_events_total", {{"source", "trades"}}) >= 6000;
      },
      60s, &error))
      << error;
  ASSERT_NO_FATAL_FAILURE(stream.produce(3000, {0, 1, 2, 3}));
  ASSERT_TRUE(kafka.flush());
  ASSERT_TRUE(a.scrapeUntil(
      [](const Metrics& m) {
        return m.valueOr0("rivulet_kafka_commits_total",
                          {{"source", "trades"}, {"result", "ok"}}) >= 1;
      },
      60s, &error))
      << error;

  Daemon b(dir_b, configYaml(dir_b, kafka, "out.jsonl", cooperative));
  ASSERT_TRUE(b.waitReady());
  ASSERT_TRUE(b.scrapeUntil(
      [](const Metrics& m) { return !m.all("rivulet_kafka_consumer_lag").empty(); }, 60s, &error))
      << "b never got a partition: " << error;
  ASSERT_NO_FATAL_FAILURE(stream.produce(3000, {0, 1, 2, 3}));
  ASSERT_NO_FATAL_FAILURE(stream.closeWindows({0, 1, 2, 3}));
  ASSERT_TRUE(kafka.flush());
  ASSERT_TRUE(waitForFinals({out_a, out_b}, stream.reference.windows().size()));
  const std::vector<Result> results = readResults({out_a, out_b});
  EXPECT_FALSE(readResults({out_b}).empty());
  const auto metrics = a.scrapeUntil([](const Metrics&) { return true; }, 30s, &error);
  ASSERT_TRUE(metrics) << error;
  EXPECT_GE(metrics->valueOr0("rivulet_kafka_rebalances_total", {{"source", "trades"}}), 2)
      << "a was assigned its partitions, then gave some up";
  ASSERT_NO_FATAL_FAILURE(stop(a));
  ASSERT_NO_FATAL_FAILURE(stop(b));
  expectEveryWindow(results, stream, true);
}

// Checkpoints (daemon.checkpoint) with a kafka source: SIGKILL at random points after new
// checkpoints, several times, with more events produced on each run, and a restart each time.
// Every restart is assigned the partitions its checkpoint holds, so it resumes from the
// checkpointed offsets under the restored window state: no reset, so no replayed event counts as
// late. In the end every window of the reference is published as final with its values; one
// published again (after the checkpoint and before a crash) has the same values, and the events
// counted over the distinct windows are exactly those produced: none lost, none twice.
TEST(DaemonKafka, CheckpointsSurviveRepeatedKillsWithEveryWindowOnce) {
  MockKafka kafka;
  ASSERT_NO_FATAL_FAILURE(kafka.createTopic(kTopic, 3));
  Stream stream(kafka, 3, 5);
  TempDir dir;
  const std::string checkpoint = dir.file("state") + "/checkpoint";
  // An output file per run: a run killed may leave half a line at the end of its own.
  std::vector<std::string> outputs;
  const auto config = [&](int run) {
    outputs.push_back(dir.file("out" + std::to_string(run) + ".jsonl"));
    return configYaml(dir, kafka, "out" + std::to_string(run) + ".jsonl", "",
                      "  checkpoint: {dir: " + dir.file("state") + ", interval: 100ms}\n");
  };
  const auto lines = [&] { return splitLines(readFile(outputs.back())).size(); };
  const auto noLateEvents = [](Daemon& daemon) {
    std::string error;
    const auto m = daemon.scrapeUntil([](const Metrics&) { return true; }, 30s, &error);
    ASSERT_TRUE(m) << error;
    EXPECT_EQ(m->valueOr0("rivulet_pipeline_late_events_total", {{"pipeline", "trades"}}), 0)
        << "a restart reset the stages instead of resuming from the checkpoint";
  };
  std::mt19937 random(::testing::UnitTest::GetInstance()->random_seed());
  const auto uniform = [&](int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(random);
  };
  constexpr int kKills = 4;
  for (int kill = 0; kill < kKills; ++kill) {
    Daemon daemon(dir, config(kill));
    ASSERT_TRUE(daemon.waitReady());
    if (kill > 0) {
      EXPECT_NE(daemon.log().find("resuming from checkpoint"), std::string::npos) << daemon.log();
    }
    // Events for this run, in two parts: the second once the group has assigned the
    // partitions, this run has consumed some, and a checkpoint has been taken since (so that the
    // next restart restores one that holds some of this run's events).
    const int first = uniform(500, 2500);
    ASSERT_NO_FATAL_FAILURE(stream.produce(first, {0, 1, 2}));
    ASSERT_TRUE(kafka.flush());
    std::string error;
    ASSERT_TRUE(daemon.scrapeUntil(
        [&](const Metrics& m) {
          return m.valueOr0("rivulet_source_events_total", {{"source", "trades"}}) >= first;
        },
        60s, &error))
        << error;
    const std::string before = readFile(checkpoint);
    ASSERT_TRUE(waitUntil([&] { return readFile(checkpoint) != before; }, 60s))
        << "no checkpoint was written";
    ASSERT_NO_FATAL_FAILURE(stream.produce(uniform(500, 2500), {0, 1, 2}));
    ASSERT_TRUE(kafka.flush());
    // A random point: up to 300 more results, or three more checkpoints once the results stop
    // coming (this run's events are all consumed).
    const std::size_t target = lines() + static_cast<std::size_t>(uniform(0, 300));
    std::string last = readFile(checkpoint);
    int checkpoints = 0;
    ASSERT_TRUE(waitUntil(
        [&] {
          if (std::string now = readFile(checkpoint); now != last) {
            last = std::move(now);
            ++checkpoints;
          }
          return lines() >= target || checkpoints >= 3;
        },
        60s));
    ASSERT_NO_FATAL_FAILURE(noLateEvents(daemon));
    ASSERT_TRUE(daemon.process().signal(SIGKILL));
    ASSERT_EQ(daemon.process().wait(30s), 128 + SIGKILL);
  }
  ASSERT_NO_FATAL_FAILURE(stream.produce(1000, {0, 1, 2}));
  ASSERT_NO_FATAL_FAILURE(stream.closeWindows({0, 1, 2}));
  ASSERT_TRUE(kafka.flush());
  Daemon last(dir, config(kKills));
  ASSERT_TRUE(last.waitReady());
  EXPECT_NE(last.log().find("resuming from checkpoint"), std::string::npos) << last.log();
  ASSERT_TRUE(waitForFinals(outputs, stream.reference.windows().size()));
  ASSERT_NO_FATAL_FAILURE(noLateEvents(last));
  ASSERT_NO_FATAL_FAILURE(stop(last));
  expectEveryWindow(readResults(outputs), stream, true);
}

// A property librdkafka does not know stops the start with exit 3, naming the source, the
// property and librdkafka's reason.
TEST(DaemonKafka, UnknownPropertyFailsTheStart) {
  MockKafka kafka;
  TempDir dir;
  writeFile(dir.file("bad.yaml"),
            configYaml(dir, kafka, "out.jsonl", "      no.such.property: \"1\"\n"));
  const CommandResult r = runCommand(dir, {kDaemonPath, "--config", dir.file("bad.yaml")}, 30s);
  ASSERT_TRUE(r.exit_code.has_value());
  EXPECT_EQ(*r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("source trades: kafka property no.such.property: No such configuration "
                       "property"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace rivulet::itest

// Checkpoints (daemon.checkpoint) with a kafka source, against librdkafka's mock cluster: SIGKILL
// at random points several times, a restart each time, resumes exactly from the checkpoints; an
// instance joining mid-stream (the fallback: reset and replay from the committed offsets) still
// publishes every window with its values. The stream, config and checks:
// tests/integration/harness/kafka_stream.h.
#include <gtest/gtest.h>
#include <signal.h>

#include <random>
#include <string>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/integration/harness/kafka.h"
#include "tests/integration/harness/kafka_stream.h"

namespace rivulet::itest {
namespace {

std::string checkpointed(const TempDir& dir) {
  return "  checkpoint: {dir: " + dir.file("state") + ", interval: 100ms}\n";
}

// Checkpoints (daemon.checkpoint) with a kafka source: SIGKILL at random points after new
// checkpoints, several times, with more events produced on each run, and a restart each time.
// Every restart is assigned the partitions its checkpoint holds, so it resumes from the
// checkpointed offsets under the restored window state: no reset, so no replayed event counts as
// late. In the end every window of the reference is published as final with its values; one
// published again (after the checkpoint and before a crash) has the same values, and the events
// counted over the distinct windows are exactly those produced: none lost, none twice.
TEST(DaemonKafkaCheckpoint, CheckpointsSurviveRepeatedKillsWithEveryWindowOnce) {
  MockKafka kafka;
  ASSERT_NO_FATAL_FAILURE(kafka.createTopic(kTopic, 3));
  Stream stream(kafka, 3, 5);
  TempDir dir;
  const std::string checkpoint = dir.file("state") + "/checkpoint";
  // An output file per run: a run killed may leave half a line at the end of its own.
  std::vector<std::string> outputs;
  const auto config = [&](int run) {
    outputs.push_back(dir.file("out" + std::to_string(run) + ".jsonl"));
    return configYaml(dir, kafka, "out" + std::to_string(run) + ".jsonl", "", checkpointed(dir));
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

// With checkpoints on both, a second instance joins while the first is consuming
// (cooperative-sticky: the first gives up half its partitions). The first falls back as without
// checkpoints: its state goes, its partitions restart from the committed offsets, which with
// checkpoints are also covered by a durable checkpoint. Every window is still published, and any
// published by both, or twice, has the same values.
TEST(DaemonKafkaCheckpoint, AnInstanceJoiningMidStreamLosesNoWindowAndChangesNone) {
  MockKafka kafka;
  ASSERT_NO_FATAL_FAILURE(kafka.createTopic(kTopic, 4));
  const std::string cooperative = "      partition.assignment.strategy: cooperative-sticky\n";
  Stream stream(kafka, 4, 6);
  ASSERT_NO_FATAL_FAILURE(stream.produce(6000, {0, 1, 2, 3}));
  ASSERT_TRUE(kafka.flush());

  TempDir dir_a, dir_b;
  const std::string out_a = dir_a.file("out.jsonl");
  const std::string out_b = dir_b.file("out.jsonl");
  Daemon a(dir_a, configYaml(dir_a, kafka, "out.jsonl", cooperative, checkpointed(dir_a)));
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
  // A commit needs a safe mark and a durable checkpoint after it.
  ASSERT_TRUE(a.scrapeUntil(
      [](const Metrics& m) {
        return m.valueOr0("rivulet_kafka_commits_total",
                          {{"source", "trades"}, {"result", "ok"}}) >= 1;
      },
      60s, &error))
      << error;

  Daemon b(dir_b, configYaml(dir_b, kafka, "out.jsonl", cooperative, checkpointed(dir_b)));
  ASSERT_TRUE(b.waitReady());
  ASSERT_TRUE(b.scrapeUntil(
      [](const Metrics& m) { return !m.all("rivulet_kafka_consumer_lag").empty(); }, 60s, &error))
      << "b never got a partition: " << error;
  ASSERT_NO_FATAL_FAILURE(stream.produce(3000, {0, 1, 2, 3}));
  ASSERT_NO_FATAL_FAILURE(stream.closeWindows({0, 1, 2, 3}));
  ASSERT_TRUE(kafka.flush());
  ASSERT_TRUE(waitForFinals({out_a, out_b}, stream.reference.windows().size()));
  // Read before stopping: when one instance leaves, the other takes its partitions over.
  const std::vector<Result> results = readResults({out_a, out_b});
  EXPECT_FALSE(readResults({out_b}).empty());
  const auto metrics = a.scrapeUntil([](const Metrics&) { return true; }, 30s, &error);
  ASSERT_TRUE(metrics) << error;
  EXPECT_GE(metrics->valueOr0("rivulet_kafka_rebalances_total", {{"source", "trades"}}), 2)
      << "a was assigned its partitions, then gave some up";
  EXPECT_EQ(metrics->valueOr0("rivulet_checkpoints_total", {{"result", "failed"}}), 0);
  ASSERT_NO_FATAL_FAILURE(stop(a));
  ASSERT_NO_FATAL_FAILURE(stop(b));
  expectEveryWindow(results, stream, true);
}

}  // namespace
}  // namespace rivulet::itest

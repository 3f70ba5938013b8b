// Checkpoints (daemon.checkpoint) with a kafka source, against librdkafka's mock cluster: SIGKILL
// at random points several times, a restart each time, resumes exactly from the checkpoints; an
// instance joining mid-stream (the fallback: reset and replay from the committed offsets) still
// publishes every window with its values; a checkpoint whose partitions another instance has
// committed further is not resumed. The stream, config and checks:
// tests/integration/harness/kafka_stream.h.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/integration/harness/kafka_stream.h"
#include "tests/support/mock_kafka.h"

namespace rivulet::testutil {
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
        [&](const Metrics& scraped) {
          return scraped.valueOr0("rivulet_source_events_total", {{"source", "trades"}}) >= first;
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
  expectJoiningInstanceLosesNoWindow(6, checkpointed);
}

// A checkpoint whose partitions another instance consumed and committed further while its owner
// was down is not resumed: A is killed with a checkpoint, B (its own checkpoints) takes every
// partition over, consumes what came since, publishes its windows and commits, and leaves. A,
// restarted, gets its checkpoint's partitions back but starts from B's committed offsets (it
// reads only what came after them) instead of its checkpoint's, which would publish B's windows
// again. Every window is still published with its values.
TEST(DaemonKafkaCheckpoint, APartitionCommittedFurtherElsewhereIsNotResumed) {
  MockKafka kafka;
  Stream stream(kafka, 3, 7);
  ASSERT_NO_FATAL_FAILURE(stream.startTopic(3000));
  TempDir dir_a, dir_b;
  const std::vector<std::string> outputs = {dir_a.file("out1.jsonl"), dir_b.file("out.jsonl"),
                                            dir_a.file("out2.jsonl")};
  const std::string checkpoint_a = dir_a.file("state") + "/checkpoint";
  const std::string checkpoint_b = dir_b.file("state") + "/checkpoint";
  const auto consumed = [](Daemon& daemon, int events) {
    std::string error;
    return daemon.scrapeUntil(
        [&](const Metrics& scraped) {
          return scraped.valueOr0("rivulet_source_events_total", {{"source", "trades"}}) >= events;
        },
        60s, &error);
  };
  // Every partition read to its end (lag 0 on each) and at least `events` read.
  const auto caughtUp = [](Daemon& daemon, int events) {
    std::string error;
    return daemon.scrapeUntil(
        [&](const Metrics& scraped) {
          const std::vector<Sample> lag = scraped.all("rivulet_kafka_consumer_lag");
          return scraped.valueOr0("rivulet_source_events_total", {{"source", "trades"}}) >=
                     events &&
                 lag.size() == 3 &&
                 std::all_of(lag.begin(), lag.end(), [](const Sample& s) { return s.value == 0; });
        },
        60s, &error);
  };
  // Six more checkpoints (600 ms): over one commit interval and a poll, so a mark went out after
  // what was consumed, and a durable checkpoint after that mark.
  const auto moreCheckpoints = [](const std::string& path) {
    std::string last = readFile(path);
    int changes = 0;
    return waitUntil(
        [&] {
          if (std::string now = readFile(path); now != last) {
            last = std::move(now);
            ++changes;
          }
          return changes >= 6;
        },
        60s);
  };
  {
    Daemon a(dir_a, configYaml(dir_a, kafka, "out1.jsonl", "", checkpointed(dir_a)));
    ASSERT_TRUE(a.waitReady());
    ASSERT_TRUE(consumed(a, 3000));
    ASSERT_TRUE(moreCheckpoints(checkpoint_a));
    ASSERT_TRUE(a.process().signal(SIGKILL));
    ASSERT_EQ(a.process().wait(30s), 128 + SIGKILL);
  }
  {
    Daemon b(dir_b, configYaml(dir_b, kafka, "out.jsonl", "", checkpointed(dir_b)));
    ASSERT_TRUE(b.waitReady());
    ASSERT_NO_FATAL_FAILURE(stream.produce(3000, {0, 1, 2}));
    ASSERT_TRUE(kafka.flush());
    ASSERT_TRUE(caughtUp(b, 3000));
    ASSERT_TRUE(moreCheckpoints(checkpoint_b));
    ASSERT_NO_FATAL_FAILURE(stream.closeWindows({0, 1, 2}));
    ASSERT_TRUE(kafka.flush());
    ASSERT_TRUE(waitForFinals({outputs[0], outputs[1]}, stream.reference.windows().size()));
    ASSERT_NO_FATAL_FAILURE(stop(b));  // a last checkpoint, then the safe marks committed
  }
  Daemon a(dir_a, configYaml(dir_a, kafka, "out2.jsonl", "", checkpointed(dir_a)));
  ASSERT_TRUE(a.waitReady());
  EXPECT_NE(a.log().find("resuming from checkpoint"), std::string::npos) << a.log();
  // Every partition read to its end (the closing events at least), then what was read counted.
  const auto metrics = caughtUp(a, 3);
  ASSERT_TRUE(metrics);
  EXPECT_LT(metrics->valueOr0("rivulet_source_events_total", {{"source", "trades"}}), 3000)
      << "a resumed from its checkpoint, before what b consumed and committed";
  ASSERT_NO_FATAL_FAILURE(stop(a));
  expectEveryWindow(readResults(outputs), stream, true);
}

}  // namespace
}  // namespace rivulet::testutil

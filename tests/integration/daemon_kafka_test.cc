// The real daemon consuming from librdkafka's mock cluster (a Kafka-protocol broker on loopback
// inside the test) in a consumer group: every window checked against the brute-force reference;
// a partition without traffic does not stall the windows once idle; SIGKILL mid-stream and a
// restart lose no window and publish none with other values (at-least-once: committed offsets
// cover only published windows, and the replay floor keeps published windows from reopening);
// two instances in one group split the partitions and together publish every window once.
// The stream, config and checks: tests/integration/harness/kafka_stream.h.
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "tests/integration/harness.h"
#include "tests/integration/harness/kafka_stream.h"
#include "tests/support/mock_kafka.h"

namespace rivulet::testutil {
namespace {

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
  Daemon daemon(dir, configYaml(dir, kafka, "out.jsonl", "", "", "5s"));
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

// A topic that goes quiet: once every partition has been silent for `idle`, each goes on with the
// wall clock from its last event, so the last windows of every partition are published final
// while the daemon runs, with no event ahead to close them.
TEST(DaemonKafka, QuietTopicClosesItsLastWindowsAfterIdle) {
  MockKafka kafka;
  Stream stream(kafka, 3, 7);
  ASSERT_NO_FATAL_FAILURE(stream.startTopic(2000));

  TempDir dir;
  Daemon daemon(dir, configYaml(dir, kafka, "out.jsonl", "", "", "2s"));
  ASSERT_TRUE(daemon.waitReady());
  ASSERT_TRUE(waitForFinals({dir.file("out.jsonl")}, stream.reference.windows().size()))
      << daemon.log();
  expectEveryWindow(readResults({dir.file("out.jsonl")}), stream, false);
}

// SIGKILL once some offsets are committed, then a restart in the same group: every window is
// published, and any published twice has the same values.
TEST(DaemonKafka, KillAndRestartLosesNoWindowAndChangesNone) {
  MockKafka kafka;
  Stream stream(kafka, 3, 2);
  ASSERT_NO_FATAL_FAILURE(stream.startTopic(8000));

  TempDir dir;
  {
    Daemon first(dir, configYaml(dir, kafka, "out1.jsonl"));
    ASSERT_TRUE(first.waitReady());
    std::string error;
    ASSERT_TRUE(first.scrapeUntil(
        [](const Metrics& scraped) {
          return scraped.valueOr0("rivulet_source_events_total", {{"source", "trades"}}) >= 8000;
        },
        60s, &error))
        << error;
    // Later events on every partition move the watermark past the first ones' windows: those
    // are published, and their offsets committed.
    ASSERT_NO_FATAL_FAILURE(stream.produce(2000, {0, 1, 2}));
    ASSERT_TRUE(kafka.flush());
    ASSERT_TRUE(first.scrapeUntil(
        [](const Metrics& scraped) {
          return scraped.valueOr0("rivulet_kafka_commits_total",
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

// The group's partitions committed with different floors, as when an instance had some of them
// while another had the rest, or a restarted instance got part of them first while its dead
// member still held the others. Each partition's replayed events of windows published through
// its own floor count as late: none of those windows is published again with part of its
// events, and every window after a partition's floor is published whole.
TEST(DaemonKafka, EachPartitionReplaysFromItsOwnFloor) {
  MockKafka kafka;
  ASSERT_NO_FATAL_FAILURE(kafka.createTopic(kTopic, 2));
  // Partition 0 holds S0 every 7 ms, partition 1 holds S1 every 5 ms; 1000 events each.
  // Committed: partition 0 at offset 600 (floor: its event 599, 4193 ms), partition 1 at 150
  // (floor 745 ms). Reset to the lower floor, the stages count S1's replayed events of window
  // [0, 1 s) late; S0's of window [4 s, 5 s), events 600 to 714, only the partition's own
  // floor makes late.
  constexpr int kEvents = 1000;
  const std::int64_t step[2] = {7, 5};
  const std::int64_t committed[2] = {600, 150};
  WindowReference reference{"trades", {"sym"}, 1000, 1000};
  std::int64_t late = 0;
  for (int partition = 0; partition < 2; ++partition) {
    const std::int64_t floor = kBase + (committed[partition] - 1) * step[partition];
    for (int i = 0; i < kEvents; ++i) {
      const std::int64_t ts = kBase + i * step[partition];
      const double px = 1 + i % 97;
      kafka.produce(kTopic, partition, sym(partition),
                    "{\"ts\":" + std::to_string(ts) + ",\"sym\":\"" + sym(partition) +
                        "\",\"px\":" + std::to_string(px) + "}");
      if (i < committed[partition]) continue;
      if (floorDiv(ts, 1000) <= floorDiv(floor, 1000)) {
        ++late;
      } else {
        reference.add(ts, {sym(partition)}, px);
      }
    }
    ASSERT_TRUE(kafka.commit("rivulet-test", kTopic, partition, committed[partition],
                             "rivulet floor " + std::to_string(floor * 1'000'000)));
  }
  ASSERT_EQ(late, 115 + 50);
  Stream closing(kafka, 2, 0);
  ASSERT_NO_FATAL_FAILURE(closing.closeWindows({0, 1}));
  ASSERT_TRUE(kafka.flush());

  TempDir dir;
  Daemon daemon(dir, configYaml(dir, kafka, "out.jsonl"));
  ASSERT_TRUE(daemon.waitReady());
  ASSERT_TRUE(waitForFinals({dir.file("out.jsonl")}, reference.windows().size()));
  std::string error;
  const auto m = daemon.scrapeUntil(
      [&](const Metrics& scraped) {
        return scraped.valueOr0("rivulet_pipeline_late_events_total", {{"pipeline", "trades"}}) >=
               static_cast<double>(late);
      },
      30s, &error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(m->valueOr0("rivulet_pipeline_late_events_total", {{"pipeline", "trades"}}), late);
  ASSERT_NO_FATAL_FAILURE(stop(daemon));
  std::size_t repeated = 0;
  const std::vector<Result> finals =
      distinctFinals(readResults({dir.file("out.jsonl")}), &repeated);
  EXPECT_EQ(repeated, 0u);
  expectResultsMatch(finals, "final", reference, kAggregates, [](const WindowId&) { return true; });
}

// A second instance joins while the first is consuming (cooperative-sticky: the first gives up
// half its partitions, restarts the rest from their commits): every window is still published,
// and any published by both, or twice, has the same values.
TEST(DaemonKafka, AnInstanceJoiningMidStreamLosesNoWindowAndChangesNone) {
  expectJoiningInstanceLosesNoWindow(4, [](const TempDir&) { return std::string(); });
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
}  // namespace rivulet::testutil

// A kafka source with checkpoints through the real threads of an Engine, against librdkafka's mock
// cluster in this process: a Checkpointer takes checkpoints while the events flow. Offsets are
// committed (which needs a durable checkpoint), every window is published, and the last
// checkpoint holds a kafka position with both partitions at offsets within what was produced.
// Not labelled "concurrency": librdkafka starts its threads with C11 thrd_create, which
// ThreadSanitizer (GCC 12) does not intercept, and its runtime crashes in the first of them. So
// this runs under ASan and in release only.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <utility>

#include "config/loader.h"
#include "connectors/kafka/kafka_position.h"
#include "daemon/checkpoints/checkpoint_file.h"
#include "daemon/checkpoints/checkpointer.h"
#include "daemon/engine.h"
#include "pipeline/runtime/clock.h"
#include "tests/support/files.h"
#include "tests/support/mock_kafka.h"
#include "tests/support/wait.h"

namespace rivulet::daemon {
namespace {

using namespace std::chrono_literals;

constexpr std::int64_t kBase = 1'700'000'000'000;  // ms
constexpr int kPartitions = 2;
constexpr int kPerPartition = 3000;

TEST(KafkaCheckpointEngine, CheckpointsWhileConsumingCommitOnceDurable) {
  const testutil::TempDir temp("rivulet-kafka-ckpt");
  const std::string& dir = temp.path();

  testutil::MockKafka kafka;
  ASSERT_NO_FATAL_FAILURE(kafka.createTopic("t", kPartitions));
  // Keys k0..k7, each on one partition, in time order per partition: no event is late. In two
  // parts: a mark is safe once the windows of the events before it are closed, which takes
  // events after them; the second part's come once the first's marks are sent.
  std::set<std::pair<std::string, std::int64_t>> windows;
  const auto produce = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      for (int partition = 0; partition < kPartitions; ++partition) {
        const std::string key = "k" + std::to_string(partition + kPartitions * (i % 4));
        const std::int64_t ts = kBase + i * 7;
        windows.emplace(key, ts / 1000);
        kafka.produce("t", partition, key,
                      "{\"ts\":" + std::to_string(ts) + ",\"sym\":\"" + key + "\"}");
      }
    }
  };
  produce(0, kPerPartition / 2);
  ASSERT_TRUE(kafka.flush());

  const std::string yaml =
      "daemon:\n  publish: inproc://kafka-checkpoint\n  output: " + dir +
      "/out.jsonl\n  stages: 2\n  log_level: warn\n  checkpoint: {dir: " + dir +
      "/state, interval: 100ms}\n"
      "sources:\n  k:\n    kind: kafka\n    brokers: " +
      kafka.bootstraps() +
      "\n    topics: [t]\n    group: g\n    commit_interval: 100ms\n"
      "    time: {field: ts, unit: ms}\n    watermark: {delay: 0s, idle: 5s}\n"
      "pipelines:\n  counts:\n    from: k\n    group_by: [sym]\n    window: {tumbling: 1s}\n"
      "    aggregates: {n: count()}\n";
  config::LoadResult loaded = config::loadString(yaml, "test.yaml");
  ASSERT_TRUE(loaded.config) << loaded.errors.front().toString();
  const config::Config& config = *loaded.config;

  std::uint64_t commits = 0;
  {
    Engine engine(config);
    Checkpointer checkpointer(*config.daemon.checkpoint, engine.checkpoints(), engine.fingerprint(),
                              {"k"});
    engine.start();
    const connectors::KafkaStats& stats = *engine.kafkaStats(0);
    // Ticks the checkpointer until `done()` holds, as the daemon's control thread does.
    const testutil::Clock::time_point deadline = testutil::Clock::now() + 120s;
    const auto tickUntil = [&](auto done) {
      return testutil::waitUntil(
          [&] {
            if (done()) return true;
            checkpointer.tick(pipeline::steadyNanos());
            return false;
          },
          deadline - testutil::Clock::now(), 1ms);
    };
    // The first part consumed, then two more checkpoints (over 100 ms: a mark has been sent).
    std::uint64_t written = 0;
    ASSERT_TRUE(tickUntil([&] {
      written = checkpointer.stats().written.load(std::memory_order_relaxed);
      return engine.sourceStats(0).events.load(std::memory_order_relaxed) >=
             static_cast<std::uint64_t>(kPartitions * (kPerPartition / 2));
    })) << "the first part was not consumed";
    ASSERT_TRUE(tickUntil([&] {
      return checkpointer.stats().written.load(std::memory_order_relaxed) >= written + 2;
    })) << "no two checkpoints after the first part";
    produce(kPerPartition / 2, kPerPartition);
    for (int partition = 0; partition < kPartitions; ++partition) {  // closes every window above
      kafka.produce("t", partition, "close",
                    "{\"ts\":" + std::to_string(kBase + 3'600'000) + ",\"sym\":\"close\"}");
    }
    ASSERT_TRUE(kafka.flush());
    ASSERT_TRUE(tickUntil([&] {
      return engine.pipelineSet()->publish_stats[0]->publishedTotal() >= windows.size() &&
             stats.commits.load(std::memory_order_relaxed) > 0 &&
             checkpointer.stats().written.load(std::memory_order_relaxed) >= 3;
    })) << "not every window published, committed and checkpointed";
    commits = stats.commits.load(std::memory_order_relaxed);
    EXPECT_EQ(stats.commit_errors.load(std::memory_order_relaxed), 0u);
    EXPECT_EQ(checkpointer.stats().failed.load(std::memory_order_relaxed), 0u);
    // The last checkpoint, at a stop, as the daemon takes it.
    EXPECT_TRUE(checkpointer.checkpointNow(30'000'000'000, [] {}));
    engine.requestStop();
    engine.join();
    EXPECT_EQ(engine.pipelineSet()->publish_stats[0]->publishedTotal(), windows.size());
  }
  EXPECT_GE(commits, 1u) << "no offsets committed: no checkpoint became durable?";

  const CheckpointRead read = readCheckpoint(dir + "/state", checkpointFingerprint(config));
  ASSERT_EQ(read.status, CheckpointRead::Status::kOk) << read.message;
  ASSERT_EQ(read.data.sources.size(), 1u);
  const std::optional<connectors::KafkaPosition> position =
      connectors::decodeKafkaPosition(read.data.sources[0]);
  ASSERT_TRUE(position.has_value());
  ASSERT_EQ(position->partitions.size(), static_cast<std::size_t>(kPartitions));
  for (const connectors::KafkaPosition::Partition& p : position->partitions) {
    EXPECT_EQ(p.topic, "t");
    // Everything was consumed before the last checkpoint: every event and the closing one.
    EXPECT_EQ(p.offset, kPerPartition + 1) << "partition " << p.partition;
    EXPECT_EQ(p.max_time, (kBase + 3'600'000) * 1'000'000) << "partition " << p.partition;
  }
}

}  // namespace
}  // namespace rivulet::daemon

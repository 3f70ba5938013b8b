// librdkafka's mock cluster (a real Kafka-protocol broker on loopback, inside the test process)
// and a producer for it. The cluster outlives the daemons and engines a test starts and
// restarts, so their committed offsets live on between runs.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct rd_kafka_s;
struct rd_kafka_mock_cluster_s;

namespace rivulet::testutil {

class MockKafka {
 public:
  explicit MockKafka(int brokers = 3);
  ~MockKafka();
  MockKafka(const MockKafka&) = delete;
  MockKafka& operator=(const MockKafka&) = delete;

  const std::string& bootstraps() const { return bootstraps_; }

  void createTopic(const std::string& topic, int partitions);

  // Queues one message for `partition`; the mock keeps ~100,000 messages per partition.
  void produce(const std::string& topic, int partition, std::string_view key,
               std::string_view value);

  // Waits until every queued message is acknowledged by the cluster.
  ::testing::AssertionResult flush();

  // The (key, value) of the messages of `topic`, from the start of its `partitions`, read until
  // there are `count` or `timeout` passed; each partition's in order, partitions one after another.
  std::vector<std::pair<std::string, std::string>> read(const std::string& topic, int partitions,
                                                        std::size_t count,
                                                        std::chrono::milliseconds timeout);

  // Every committed message of `topic` (isolation.level read_committed), read to the end of each
  // of its `partitions`; a failure if `timeout` passes first.
  std::vector<std::pair<std::string, std::string>> readAll(const std::string& topic, int partitions,
                                                           std::chrono::milliseconds timeout);

  // Commits `offset` of `topic`'s `partition` for consumer group `group`, with `metadata`, as a
  // member that had the partition would (a consumer of the group without a subscription).
  ::testing::AssertionResult commit(const std::string& group, const std::string& topic,
                                    int partition, std::int64_t offset,
                                    const std::string& metadata);

  // Every broker of the cluster down (connections refused and closed) or up again.
  void setDown(bool down);

 private:
  std::vector<std::pair<std::string, std::string>> consume(const std::string& topic, int partitions,
                                                           std::size_t count, bool to_end,
                                                           std::chrono::milliseconds timeout);

  int brokers_;
  rd_kafka_s* owner_ = nullptr;
  rd_kafka_mock_cluster_s* cluster_ = nullptr;
  rd_kafka_s* producer_ = nullptr;
  std::string bootstraps_;
};

}  // namespace rivulet::testutil

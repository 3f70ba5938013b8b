// librdkafka's mock cluster (a real Kafka-protocol broker on loopback, inside the test process)
// and a producer for it. The cluster outlives the daemons a test starts and restarts, so their
// committed offsets live on between runs.
#pragma once

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
// After rdkafka.h, which it builds on.
#include <librdkafka/rdkafka_mock.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace rivulet::itest {

class MockKafka {
 public:
  explicit MockKafka(int brokers = 3) {
    char error[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    // The handle only owns the cluster; it connects to nothing.
    owner_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    if (owner_ == nullptr) throw std::runtime_error(error);
    cluster_ = rd_kafka_mock_cluster_new(owner_, brokers);
    if (cluster_ == nullptr) throw std::runtime_error("rd_kafka_mock_cluster_new failed");
    bootstraps_ = rd_kafka_mock_cluster_bootstraps(cluster_);

    conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps_.c_str(), error, sizeof error);
    rd_kafka_conf_set(conf, "linger.ms", "5", error, sizeof error);
    producer_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    if (producer_ == nullptr) throw std::runtime_error(error);
  }
  ~MockKafka() {
    rd_kafka_flush(producer_, 10'000);
    rd_kafka_destroy(producer_);
    rd_kafka_mock_cluster_destroy(cluster_);
    rd_kafka_destroy(owner_);
  }
  MockKafka(const MockKafka&) = delete;
  MockKafka& operator=(const MockKafka&) = delete;

  const std::string& bootstraps() const { return bootstraps_; }

  void createTopic(const std::string& topic, int partitions) {
    ASSERT_EQ(rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, 1),
              RD_KAFKA_RESP_ERR_NO_ERROR);
  }

  // Queues one message for `partition`; the mock keeps ~100,000 messages per partition.
  void produce(const std::string& topic, int partition, std::string_view key,
               std::string_view value) {
    for (;;) {
      const rd_kafka_resp_err_t err =
          rd_kafka_producev(producer_, RD_KAFKA_V_TOPIC(topic.c_str()),
                            RD_KAFKA_V_PARTITION(partition), RD_KAFKA_V_KEY(key.data(), key.size()),
                            RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        ASSERT_EQ(err, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(err);
        return;
      }
      rd_kafka_poll(producer_, 10);  // the local queue is full: let deliveries drain it
    }
  }

  // Waits until every queued message is acknowledged by the cluster.
  ::testing::AssertionResult flush() {
    const rd_kafka_resp_err_t err = rd_kafka_flush(producer_, 30'000);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "produce flush: " << rd_kafka_err2str(err);
  }

 private:
  rd_kafka_t* owner_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  rd_kafka_t* producer_ = nullptr;
  std::string bootstraps_;
};

}  // namespace rivulet::itest

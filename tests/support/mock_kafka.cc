// librdkafka's mock cluster and its producer (mock_kafka.h).
#include "tests/support/mock_kafka.h"

#include <librdkafka/rdkafka.h>
// After rdkafka.h, which it builds on.
#include <librdkafka/rdkafka_mock.h>

#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace rivulet::testutil {

MockKafka::MockKafka(int brokers) : brokers_(brokers) {
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

MockKafka::~MockKafka() {
  rd_kafka_flush(producer_, 10'000);
  rd_kafka_destroy(producer_);
  rd_kafka_mock_cluster_destroy(cluster_);
  rd_kafka_destroy(owner_);
}

void MockKafka::createTopic(const std::string& topic, int partitions) {
  ASSERT_EQ(rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, 1),
            RD_KAFKA_RESP_ERR_NO_ERROR);
}

void MockKafka::produce(const std::string& topic, int partition, std::string_view key,
                        std::string_view value) {
  for (;;) {
// librdkafka's RD_KAFKA_V_* macros are C casts.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
    const rd_kafka_resp_err_t err =
        rd_kafka_producev(producer_, RD_KAFKA_V_TOPIC(topic.c_str()),
                          RD_KAFKA_V_PARTITION(partition), RD_KAFKA_V_KEY(key.data(), key.size()),
                          RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
#pragma GCC diagnostic pop
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      ASSERT_EQ(err, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(err);
      return;
    }
    rd_kafka_poll(producer_, 10);  // the local queue is full: let deliveries drain it
  }
}

::testing::AssertionResult MockKafka::flush() {
  const rd_kafka_resp_err_t err = rd_kafka_flush(producer_, 30'000);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "produce flush: " << rd_kafka_err2str(err);
}

void MockKafka::setDown(bool down) {
  for (int broker = 1; broker <= brokers_; ++broker) {
    const rd_kafka_resp_err_t err = down ? rd_kafka_mock_broker_set_down(cluster_, broker)
                                         : rd_kafka_mock_broker_set_up(cluster_, broker);
    ASSERT_EQ(err, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(err);
  }
}

::testing::AssertionResult MockKafka::commit(const std::string& group, const std::string& topic,
                                             int partition, std::int64_t offset,
                                             const std::string& metadata) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps_.c_str(), error, sizeof error);
  rd_kafka_conf_set(conf, "group.id", group.c_str(), error, sizeof error);
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", error, sizeof error);
  rd_kafka_t* consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
  if (consumer == nullptr) return ::testing::AssertionFailure() << "kafka consumer: " << error;
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_t* p = rd_kafka_topic_partition_list_add(list, topic.c_str(), partition);
  p->offset = offset;
  p->metadata = std::malloc(metadata.size());  // the list frees it
  std::memcpy(p->metadata, metadata.data(), metadata.size());
  p->metadata_size = metadata.size();
  const rd_kafka_resp_err_t err = rd_kafka_commit(consumer, list, 0);
  rd_kafka_topic_partition_list_destroy(list);
  rd_kafka_destroy(consumer);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "commit: " << rd_kafka_err2str(err);
}

std::vector<std::pair<std::string, std::string>> MockKafka::read(
    const std::string& topic, int partitions, std::size_t count,
    std::chrono::milliseconds timeout) {
  return consume(topic, partitions, count, false, timeout);
}

std::vector<std::pair<std::string, std::string>> MockKafka::readAll(
    const std::string& topic, int partitions, std::chrono::milliseconds timeout) {
  return consume(topic, partitions, SIZE_MAX, true, timeout);
}

std::vector<std::pair<std::string, std::string>> MockKafka::consume(
    const std::string& topic, int partitions, std::size_t count, bool to_end,
    std::chrono::milliseconds timeout) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps_.c_str(), error, sizeof error);
  rd_kafka_conf_set(conf, "group.id", "rivulet-test-reader", error, sizeof error);
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", error, sizeof error);
  rd_kafka_conf_set(conf, "isolation.level", "read_committed", error, sizeof error);
  rd_kafka_conf_set(conf, "enable.partition.eof", to_end ? "true" : "false", error, sizeof error);
  rd_kafka_t* consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
  std::vector<std::pair<std::string, std::string>> out;
  if (consumer == nullptr) {
    ADD_FAILURE() << "kafka consumer: " << error;
    return out;
  }
  rd_kafka_poll_set_consumer(consumer);
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(consumer, list);
  rd_kafka_topic_partition_list_destroy(list);
  std::vector<std::vector<std::pair<std::string, std::string>>> by_partition(
      static_cast<std::size_t>(partitions));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t read = 0;
  int ended = 0;  // partitions read to their end
  while (read < count && ended < partitions) {
    if (std::chrono::steady_clock::now() >= deadline) {
      if (to_end)
        ADD_FAILURE() << topic << ": " << ended << " of " << partitions
                      << " partitions read to their end in time";
      break;
    }
    rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer, 100);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      ++ended;
    } else if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      by_partition[static_cast<std::size_t>(m->partition)].emplace_back(
          std::string(static_cast<const char*>(m->key), m->key_len),
          std::string(static_cast<const char*>(m->payload), m->len));
      ++read;
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(consumer);
  rd_kafka_destroy(consumer);
  for (auto& partition : by_partition) out.insert(out.end(), partition.begin(), partition.end());
  return out;
}

}  // namespace rivulet::testutil

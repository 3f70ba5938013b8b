// Kafka ingest: events/s of rivulet's kafka source (the whole engine in-process: source, stages,
// publisher, one tumbling count per key) next to librdkafka's raw consume rate, in the same run,
// against librdkafka's mock cluster on loopback. Each run is a fresh consumer group reading the
// same JSON events from the start; the consumers alternate. Raw runs twice: with librdkafka's
// default fetch queue (queued.min.messages=100000) and with the one rivulet configures (1000000,
// see KafkaSource), which is the fair comparison. Timing: from the first message consumed to the
// last (the group join, ~3 s on the mock, is left out). Next to each rate: the process's CPU time
// per event over the same interval (the mock brokers included), which says where a saturated
// machine's cycles went.
//
// usage: kafka_ingest [RUNS] [MESSAGES] [PARTITIONS]   (defaults 5, 800000 and 16: the mock keeps
// at most ~5 MiB, ~80,000 of these events, per partition)
#include <librdkafka/rdkafka.h>
// After rdkafka.h, which it builds on.
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench/rate_stats.h"
#include "config/loader.h"
#include "daemon/engine.h"

namespace {

using rivulet::bench::cpuSeconds;
using rivulet::bench::Rate;
using rivulet::bench::seconds;
using rivulet::bench::Stats;
using rivulet::bench::stats;
using Clock = std::chrono::steady_clock;
constexpr auto kDeadline = std::chrono::seconds(120);  // per run

rd_kafka_conf_t* conf(const std::vector<std::pair<std::string, std::string>>& settings) {
  rd_kafka_conf_t* c = rd_kafka_conf_new();
  char error[512];
  for (const auto& [key, value] : settings) {
    if (rd_kafka_conf_set(c, key.c_str(), value.c_str(), error, sizeof error) != RD_KAFKA_CONF_OK)
      throw std::runtime_error(key + ": " + error);
  }
  return c;
}

void produce(const std::string& brokers, int messages, int partitions) {
  char error[512];
  rd_kafka_t* producer =
      rd_kafka_new(RD_KAFKA_PRODUCER, conf({{"bootstrap.servers", brokers}, {"linger.ms", "20"}}),
                   error, sizeof error);
  if (producer == nullptr) throw std::runtime_error(error);
  for (int i = 0; i < messages; ++i) {
    const int key = i % 1000;
    const std::string sym = "S" + std::to_string(key);
    const std::string value = "{\"ts\":" + std::to_string(1'700'000'000'000 + i / 4) +
                              ",\"sym\":\"" + sym + "\",\"px\":" + std::to_string(i % 997) + ".25}";
// librdkafka's RD_KAFKA_V_* macros are C casts.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
    while (rd_kafka_producev(producer, RD_KAFKA_V_TOPIC("events"),
                             RD_KAFKA_V_PARTITION(key % partitions),
                             RD_KAFKA_V_KEY(sym.data(), sym.size()),
                             RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(producer, 10);
    }
#pragma GCC diagnostic pop
  }
  if (rd_kafka_flush(producer, 60'000) != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw std::runtime_error("produce: flush timed out");
  rd_kafka_destroy(producer);
}

// librdkafka alone: a group consumer taking batches and touching each payload.
Rate rawRate(const std::string& brokers, const std::string& group, int messages,
             const char* queued_min_messages) {
  char error[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER,
                                conf({{"bootstrap.servers", brokers},
                                      {"group.id", group},
                                      {"auto.offset.reset", "earliest"},
                                      {"enable.auto.commit", "false"},
                                      {"queued.min.messages", queued_min_messages}}),
                                error, sizeof error);
  if (rk == nullptr) throw std::runtime_error(error);
  rd_kafka_poll_set_consumer(rk);
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, "events", RD_KAFKA_PARTITION_UA);
  rd_kafka_subscribe(rk, topics);
  rd_kafka_topic_partition_list_destroy(topics);
  rd_kafka_queue_t* queue = rd_kafka_queue_get_consumer(rk);
  std::vector<rd_kafka_message_t*> batch(1024);
  int taken = 0;
  std::size_t bytes = 0;
  Clock::time_point first{};
  double cpu = 0;
  const Clock::time_point deadline = Clock::now() + kDeadline;
  while (taken < messages && Clock::now() < deadline) {
    // As the kafka source takes them: what is there, else the next message when it arrives.
    ssize_t n = rd_kafka_consume_batch_queue(queue, 0, batch.data(), batch.size());
    if (n == 0) {
      batch[0] = rd_kafka_consume_queue(queue, 100);
      n = batch[0] != nullptr ? 1 : 0;
    }
    for (ssize_t i = 0; i < n; ++i) {
      if (batch[i]->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (taken++ == 0) {
          first = Clock::now();
          cpu = cpuSeconds();
        }
        bytes += batch[i]->len;
      }
      rd_kafka_message_destroy(batch[i]);
    }
  }
  const Clock::time_point last = Clock::now();
  cpu = cpuSeconds() - cpu;
  rd_kafka_queue_destroy(queue);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  if (taken < messages || bytes == 0) throw std::runtime_error("raw: not every message arrived");
  return {(messages - 1) / seconds(last - first), 1e9 * cpu / (messages - 1)};
}

// rivulet: the engine on a kafka source, one stage, one tumbling count per key.
Rate rivuletRate(const std::string& brokers, const std::string& group, int messages) {
  const std::string yaml =
      "daemon:\n  metrics: 127.0.0.1:0\n  publish: inproc://kafka-bench-" + group +
      "\n  stages: 1\n  log_level: warn\nsources:\n  events:\n" +
      "    kind: kafka\n    brokers: " + brokers + "\n    topics: [events]\n" +
      "    group: " + group + "\n    time: {field: ts, unit: ms}\n    watermark: {delay: 1s}\n" +
      "pipelines:\n  counts:\n    from: events\n    group_by: [sym]\n" +
      "    window: {tumbling: 1s}\n    aggregates:\n      n: count()\n" + "      total: sum(px)\n";
  const rivulet::config::LoadResult loaded = rivulet::config::loadString(yaml, "bench.yaml");
  if (!loaded.config) throw std::runtime_error("bench config: " + loaded.errors[0].toString());
  rivulet::daemon::Engine engine(*loaded.config);
  engine.start();
  const auto& events = engine.sourceStats(0).events;
  const auto& errors = engine.sourceStats(0).errors;
  Clock::time_point first{};
  double cpu = 0;
  const Clock::time_point deadline = Clock::now() + kDeadline;
  std::uint64_t seen = 0;
  while (seen < static_cast<std::uint64_t>(messages) && Clock::now() < deadline) {
    seen = events.load(std::memory_order_relaxed);
    if (seen > 0 && first == Clock::time_point{}) {
      first = Clock::now();
      cpu = cpuSeconds();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const Clock::time_point last = Clock::now();
  cpu = cpuSeconds() - cpu;
  engine.requestStop();
  engine.join();
  std::uint64_t refused = 0;
  for (const auto& e : errors) refused += e.load();
  if (seen < static_cast<std::uint64_t>(messages) || refused > 0)
    throw std::runtime_error("rivulet: not every message was taken");
  // The first sample already counts up to a flush's worth of events: measure from there.
  return {static_cast<double>(messages) / seconds(last - first), 1e9 * cpu / messages};
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 5;
  const int messages = argc > 2 ? std::atoi(argv[2]) : 800'000;
  const int partitions = argc > 3 ? std::atoi(argv[3]) : 16;
  char error[512];
  rd_kafka_t* owner = rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), error, sizeof error);
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(owner, 3);
  const std::string brokers = rd_kafka_mock_cluster_bootstraps(cluster);
  rd_kafka_mock_topic_create(cluster, "events", partitions, 1);
  produce(brokers, messages, partitions);
  std::printf("%d JSON events (~60 bytes) in %d partitions on the mock cluster; %d runs each\n",
              messages, partitions, runs);

  std::vector<Rate> raw_default, raw, rivulet;
  for (int r = 0; r < runs; ++r) {
    const std::string n = std::to_string(r);
    raw_default.push_back(rawRate(brokers, "raw-default-" + n, messages, "100000"));
    raw.push_back(rawRate(brokers, "raw-" + n, messages, "1000000"));
    rivulet.push_back(rivuletRate(brokers, "rivulet-" + n, messages));
    std::printf("run %d: raw (default queue) %.0f msg/s, raw %.0f msg/s, rivulet %.0f events/s\n",
                r + 1, raw_default.back().per_second, raw.back().per_second,
                rivulet.back().per_second);
  }
  const Stats d = stats(raw_default), a = stats(raw), b = stats(rivulet);
  std::printf("librdkafka raw, default queue: median %.0f msg/s (%.0f..%.0f), %.0f ns CPU/msg\n",
              d.median, d.low, d.high, d.cpu_ns);
  std::printf("librdkafka raw consume:        median %.0f msg/s (%.0f..%.0f), %.0f ns CPU/msg\n",
              a.median, a.low, a.high, a.cpu_ns);
  std::printf(
      "rivulet kafka source:          median %.0f events/s (%.0f..%.0f), %.0f ns CPU/event, "
      "%.0f%% of raw\n",
      b.median, b.low, b.high, b.cpu_ns, 100 * b.median / a.median);
  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(owner);
}

// Kafka output: results/s of rivulet's Kafka output (connectors/kafka/kafka_output.h) next to a
// bare librdkafka producer with the same settings (idempotent, acks=all, no delivery timeout),
// in the same run, against librdkafka's mock cluster on loopback. Both take the same result
// messages (key the result's topic, value its ~190-byte JSON payload) as fast as they are
// accepted, serve delivery reports only when the queue is full (as the publisher does while
// results keep coming), and are timed from the first message to the last acknowledgement. The
// two alternate, each run on a fresh topic. Next to each rate: the process's CPU time per
// message over the same interval (the mock brokers included).
//
// usage: kafka_output [RUNS] [RESULTS] [PARTITIONS]   (defaults 5, 300000 and 8)
#include <librdkafka/rdkafka.h>
// After rdkafka.h, which it builds on.
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "bench/rate_stats.h"
#include "connectors/kafka/kafka_output.h"

namespace {

using rivulet::bench::cpuSeconds;
using rivulet::bench::Rate;
using rivulet::bench::seconds;
using rivulet::bench::Stats;
using rivulet::bench::stats;
using Clock = std::chrono::steady_clock;

// The results both producers send: a per-key window's topic and payload, as the publisher
// formats them.
struct Message {
  std::string topic, payload;
};
std::vector<Message> results(int count) {
  std::vector<Message> out;
  out.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    const std::string sym = "S" + std::to_string(i % 1000);
    const long long start = 1'700'000'000'000LL + 1000LL * (i / 1000);
    out.push_back({"volume_1s/" + sym + "/",
                   "{\"pipeline\":\"volume_1s\",\"seq\":" + std::to_string(i + 1) +
                       ",\"kind\":\"final\",\"start\":" + std::to_string(start) +
                       ",\"end\":" + std::to_string(start + 1000) + ",\"key\":{\"sym\":\"" + sym +
                       "\"},\"values\":{\"n\":" + std::to_string(100 + i % 37) +
                       ",\"volume\":" + std::to_string(2500 + i % 911) +
                       ".5,\"high\":101.25,\"low\":99.75,\"vwap\":100.4375}}"});
  }
  return out;
}

int delivered = 0;  // the bare producer's acknowledgements (its delivery callback)

Rate bareRate(const std::string& brokers, const std::string& topic,
              const std::vector<Message>& messages) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char error[512];
  for (const auto& [key, value] :
       std::vector<std::pair<std::string, std::string>>{{"bootstrap.servers", brokers},
                                                        {"enable.idempotence", "true"},
                                                        {"acks", "all"},
                                                        {"message.timeout.ms", "0"}}) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error, sizeof error) !=
        RD_KAFKA_CONF_OK)
      throw std::runtime_error(key + ": " + error);
  }
  rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t*, const rd_kafka_message_t* m, void*) {
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) ++delivered;
  });
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
  if (rk == nullptr) throw std::runtime_error(error);
  delivered = 0;
  const Clock::time_point first = Clock::now();
  const double cpu = cpuSeconds();
  for (const Message& m : messages) {
// librdkafka's RD_KAFKA_V_* macros are C casts.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
    while (rd_kafka_producev(
               rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
               RD_KAFKA_V_KEY(m.topic.data(), m.topic.size()),
               RD_KAFKA_V_VALUE(const_cast<char*>(m.payload.data()), m.payload.size()),
               RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(rk, 10);
    }
#pragma GCC diagnostic pop
  }
  if (rd_kafka_flush(rk, 120'000) != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw std::runtime_error("bare: flush timed out");
  const Clock::time_point last = Clock::now();
  const double used = cpuSeconds() - cpu;
  rd_kafka_destroy(rk);
  if (delivered != static_cast<int>(messages.size()))
    throw std::runtime_error("bare: not every message was acknowledged");
  const auto n = static_cast<double>(messages.size());
  return {n / seconds(last - first), 1e9 * used / n};
}

Rate rivuletRate(const std::string& brokers, const std::string& topic,
                 const std::vector<Message>& messages) {
  rivulet::config::OutputSpec spec;
  spec.name = "bench";
  spec.kind = rivulet::config::OutputKind::kKafka;
  spec.brokers = brokers;
  spec.topic = topic;
  rivulet::connectors::KafkaOutputStats stats;
  const Clock::time_point first = Clock::now();
  const double cpu = cpuSeconds();
  {
    rivulet::connectors::KafkaOutput output(spec, stats, [] {});
    for (const Message& m : messages) output.send(m.topic, m.payload);
    output.finish();
    if (!output.safeThrough(output.position()))
      throw std::runtime_error("rivulet: not every message was acknowledged");
  }
  const Clock::time_point last = Clock::now();
  const double used = cpuSeconds() - cpu;
  const auto n = static_cast<double>(messages.size());
  return {n / seconds(last - first), 1e9 * used / n};
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 5;
  const int count = argc > 2 ? std::atoi(argv[2]) : 300'000;
  const int partitions = argc > 3 ? std::atoi(argv[3]) : 8;
  char error[512];
  rd_kafka_t* owner = rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), error, sizeof error);
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(owner, 3);
  const std::string brokers = rd_kafka_mock_cluster_bootstraps(cluster);
  const std::vector<Message> messages = results(count);
  std::printf(
      "%d results (~%zu-byte payloads) to %d partitions on the mock cluster; %d runs each\n", count,
      messages[0].payload.size(), partitions, runs);

  std::vector<Rate> bare, rivulet;
  for (int r = 0; r < runs; ++r) {
    const std::string n = std::to_string(r);
    rd_kafka_mock_topic_create(cluster, ("bare-" + n).c_str(), partitions, 1);
    rd_kafka_mock_topic_create(cluster, ("rivulet-" + n).c_str(), partitions, 1);
    bare.push_back(bareRate(brokers, "bare-" + n, messages));
    rivulet.push_back(rivuletRate(brokers, "rivulet-" + n, messages));
    std::printf("run %d: bare producer %.0f msg/s, rivulet output %.0f results/s\n", r + 1,
                bare.back().per_second, rivulet.back().per_second);
  }
  const Stats a = stats(bare), b = stats(rivulet);
  std::printf("librdkafka bare producer: median %.0f msg/s (%.0f..%.0f), %.0f ns CPU/msg\n",
              a.median, a.low, a.high, a.cpu_ns);
  std::printf(
      "rivulet kafka output:     median %.0f results/s (%.0f..%.0f), %.0f ns CPU/result, "
      "%.0f%% of bare\n",
      b.median, b.low, b.high, b.cpu_ns, 100 * b.median / a.median);
  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(owner);
}

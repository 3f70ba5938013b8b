// KafkaOutput: an `outputs:` entry of kind kafka. Each result is one message on the output's
// topic, its key the result's topic string (`<pipeline>/<k1>/.../`), its value the JSON payload;
// end-of-window markers and late events only when asked.
//
// at_least_once: an idempotent producer (no duplicates from its own retries, order kept per
// partition) acknowledged by every in-sync replica, with no delivery timeout: a broker outage
// holds results in the producer's queue, and a full queue holds the publisher (which beats its
// heartbeat meanwhile), never drops. A Kafka source's commit mark is acknowledged only once every
// message produced before it is (safeThrough), so a crash re-sends results and never loses one.
//
// Thread contract: the publisher's thread only (librdkafka's own threads call nothing here but
// the delivery callback, which runs in rd_kafka_poll() on the publisher's thread).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "connectors/kafka/kafka_secrets.h"
#include "pipeline/model/stats.h"
#include "pipeline/publisher.h"

struct rd_kafka_s;
struct rd_kafka_message_s;

namespace rivulet::connectors {

// One output's counters (the publisher's thread writes them; the metrics read them).
struct alignas(pipeline::kFalseSharingRange) KafkaOutputStats {
  pipeline::Counter delivered{0};  // acknowledged by the brokers
  pipeline::Counter errors{0};     // messages the producer gave up on (logged): never delivered
  std::atomic<std::int64_t> queued{0};  // in the producer's queue, as of the last idle()
};

class KafkaOutput final : public pipeline::ResultOutput {
 public:
  // `beat` is called while a full queue holds a result back (the publisher's heartbeat). Throws
  // std::runtime_error when the producer cannot be made (a bad property).
  KafkaOutput(const config::OutputSpec& spec, KafkaOutputStats& stats, std::function<void()> beat);
  // Waits up to 10 s for the queue to drain, then gives up on the rest (not acknowledged: their
  // marks were not either).
  ~KafkaOutput() override;

  void send(std::string_view topic, std::string_view payload) override;
  void sendMarker(std::string_view topic, std::string_view payload) override;
  void idle() override;
  // Waits up to 30 s for every message to be acknowledged (beating the heartbeat).
  void finish() override;
  std::uint64_t position() const override { return produced_; }
  bool safeThrough(std::uint64_t position) const override { return !lost_ && position <= safe_; }

 private:
  void produce(std::string_view key, std::string_view payload);
  static void onDelivery(rd_kafka_s* rk, const rd_kafka_message_s* message, void* opaque);
  static void onLog(const rd_kafka_s* rk, int level, const char* facility, const char* message);
  void delivered(std::uint64_t seq, bool ok, const char* error);

  std::string name_;
  std::string topic_;
  bool markers_, late_;
  KafkaSecrets secrets_;
  KafkaOutputStats& stats_;
  std::function<void()> beat_;
  rd_kafka_s* rk_ = nullptr;
  std::uint64_t produced_ = 0;  // messages produced: message n has sequence n (1-based)
  std::uint64_t safe_ = 0;      // every message up to this sequence is acknowledged
  bool lost_ = false;           // a message was given up on: nothing is safe any more
  // Acknowledged out of order (another partition's first), by sequence modulo the size: a window
  // of kWindow sequences past safe_, which produce() never lets a message go beyond.
  std::vector<std::uint8_t> acknowledged_;
};

}  // namespace rivulet::connectors

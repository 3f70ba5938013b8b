#include "connectors/kafka/kafka_output.h"

#include <librdkafka/rdkafka.h>

#include <cstdio>
#include <stdexcept>

namespace rivulet::connectors {
namespace {

// Messages in flight at most: librdkafka's own queue holds 100,000 by default.
constexpr std::uint64_t kWindow = 1 << 20;
constexpr int kFullPollMs = 10;
constexpr int kCloseFlushMs = 10'000;
constexpr int kFinishMs = 30'000;

}  // namespace

KafkaOutput::KafkaOutput(const config::OutputSpec& spec, KafkaOutputStats& stats,
                         std::function<void()> beat)
    : name_(spec.name),
      topic_(spec.topic),
      markers_(spec.markers),
      late_(spec.late),
      secrets_(spec.properties),
      stats_(stats),
      beat_(std::move(beat)),
      acknowledged_(kWindow, 0) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set_log_cb(conf, onLog);
  rd_kafka_conf_set_opaque(conf, this);
  const auto put = [&](const std::string& key, const std::string& value) {
    char error[512];
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error, sizeof error) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      throw std::runtime_error("outputs." + name_ + ": kafka property " + key + ": " +
                               secrets_.scrub(error));
    }
  };
  put("bootstrap.servers", spec.brokers);
  put("client.id", "rivulet-" + name_);
  put("enable.idempotence", "true");
  put("acks", "all");
  // No delivery timeout: an outage holds results rather than losing them.
  put("message.timeout.ms", "0");
  for (const auto& [key, value] : spec.properties) put(key, value);
  rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t* rk, const rd_kafka_message_t* message,
                                       void* opaque) { onDelivery(rk, message, opaque); });
  char error[512];
  rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);  // takes conf, also on failure
  if (rk_ == nullptr) {
    throw std::runtime_error("outputs." + name_ + ": kafka: " + secrets_.scrub(error));
  }
}

KafkaOutput::~KafkaOutput() {
  rd_kafka_flush(rk_, kCloseFlushMs);
  rd_kafka_destroy(rk_);
}

void KafkaOutput::send(std::string_view topic, std::string_view payload) {
  produce(topic, payload);
}

void KafkaOutput::sendMarker(std::string_view topic, std::string_view payload) {
  if ((topic.starts_with("_window/") && markers_) || (topic.starts_with("_late/") && late_)) {
    produce(topic, payload);
  }
}

void KafkaOutput::produce(std::string_view key, std::string_view payload) {
  // The window of sequences past safe_ that acknowledged_ can hold: a producer this far ahead of
  // its acknowledgements waits as for a full queue.
  while (produced_ - safe_ >= kWindow) {
    beat_();
    rd_kafka_poll(rk_, kFullPollMs);
  }
  const std::uint64_t seq = produced_ + 1;
  for (;;) {
// librdkafka's RD_KAFKA_V_* macros are C casts.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
    const rd_kafka_resp_err_t err = rd_kafka_producev(
        rk_, RD_KAFKA_V_TOPIC(topic_.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(key.data(), key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(payload.data()), payload.size()),
        RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<std::uintptr_t>(seq))),
        RD_KAFKA_V_END);
#pragma GCC diagnostic pop
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      // Not queued (an unknown topic, a message over message.max.bytes): counted and logged, and
      // safe_ stops short of it, so no commit mark after it is acknowledged.
      produced_ = seq;
      delivered(seq, false, rd_kafka_err2str(err));
      return;
    }
    // Full: the publisher waits here, alive, until the brokers take some.
    beat_();
    rd_kafka_poll(rk_, kFullPollMs);
    stats_.queued.store(rd_kafka_outq_len(rk_), std::memory_order_relaxed);
  }
  produced_ = seq;
}

void KafkaOutput::finish() {
  for (int waited = 0; rd_kafka_outq_len(rk_) > 0 && waited < kFinishMs; waited += kFullPollMs) {
    beat_();
    rd_kafka_poll(rk_, kFullPollMs);
  }
  idle();
}

void KafkaOutput::idle() {
  rd_kafka_poll(rk_, 0);
  stats_.queued.store(rd_kafka_outq_len(rk_), std::memory_order_relaxed);
}

void KafkaOutput::onDelivery(rd_kafka_s* rk, const rd_kafka_message_s* message, void*) {
  auto* self = static_cast<KafkaOutput*>(rd_kafka_opaque(rk));
  const auto* m = reinterpret_cast<const rd_kafka_message_t*>(message);
  const auto seq = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(m->_private));
  self->delivered(seq, m->err == RD_KAFKA_RESP_ERR_NO_ERROR, rd_kafka_err2str(m->err));
}

void KafkaOutput::delivered(std::uint64_t seq, bool ok, const char* error) {
  if (ok) {
    pipeline::bump(stats_.delivered);
  } else {
    // Lost: no commit mark is acknowledged from now on, so a Kafka source's offsets stay where
    // they were, and a restart reads (and sends) again what came after them.
    pipeline::bump(stats_.errors);
    if (!lost_) {
      std::fprintf(stderr,
                   "outputs.%s: kafka: a result was not delivered (%s); Kafka sources commit no "
                   "more offsets until a restart, which sends the results again\n",
                   name_.c_str(), secrets_.scrub(error).c_str());
    }
    lost_ = true;
  }
  acknowledged_[seq % kWindow] = 1;
  while (acknowledged_[(safe_ + 1) % kWindow] != 0) {
    acknowledged_[(safe_ + 1) % kWindow] = 0;
    ++safe_;
  }
}

void KafkaOutput::onLog(const rd_kafka_s* rk, int level, const char* facility,
                        const char* message) {
  // The opaque is set before rd_kafka_new, so it is there for the first line already.
  printKafkaLog(static_cast<const KafkaOutput*>(rd_kafka_opaque(rk))->secrets_, rk, level, facility,
                message);
}

}  // namespace rivulet::connectors

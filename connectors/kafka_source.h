// KafkaSource: a member of a Kafka consumer group (librdkafka), reading JSON events from the
// partitions the group assigns it.
//
// Watermarks per partition: each assigned partition's watermark is its latest event time minus
// watermark.delay; the source's is the minimum over its partitions, leaving out idle ones: those
// without a message for watermark.idle while the others had messages (after a silence of the whole
// source, every partition gets the full idle time again, so that the first partition to resume
// does not make the others' events late). A partition that has had no event yet holds the
// watermark where it is (it never moves backwards) until it has one or goes idle. When all are
// idle, the watermark goes to the lowest promise of those with events, so the last windows close
// after `idle` of silence.
//
// At-least-once: offsets are committed by rivulet only, never automatically. Every
// commit_interval the source notes the next offset of each partition and sends a commit mark
// through its rings (pipeline/commit_board.h); once every window holding an event from before the
// mark is published, the offsets are committed, with the latest event time before the mark as
// the offset's metadata (the replay floor, see Stage::onReset). A crash re-delivers from there.
//
// Rebalances: revoked partitions get their safe offsets committed at once. Any change of the
// assignment restarts the source's pipelines from the committed offsets: the stages drop their
// state (kReset) and every partition is consumed again from its committed offset, so no window
// is published with only part of its events and none twice with different values. See
// docs/scaling.md.
//
// The C API: the C++ API allocates a wrapper per message and cannot write offset metadata.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "connectors/source.h"
#include "pipeline/commit_board.h"
#include "pipeline/stats.h"

struct rd_kafka_s;
struct rd_kafka_queue_s;
struct rd_kafka_topic_s;
struct rd_kafka_topic_partition_list_s;

namespace rivulet::connectors {

// Written by the source thread, read by the metrics endpoint.
struct KafkaStats {
  pipeline::Counter rebalances{0};
  pipeline::Counter commits{0};        // offset commits the broker accepted
  pipeline::Counter commit_errors{0};  // and refused
  pipeline::Counter consumer_errors{0};

  struct Lag {
    std::string topic;
    std::int32_t partition;
    std::int64_t messages;  // high watermark - next offset to consume
  };
  // The assigned partitions' lag, refreshed about once a second.
  std::vector<Lag> lag() const {
    std::lock_guard lock(mutex_);
    return lag_;
  }
  void setLag(std::vector<Lag> lag) {
    std::lock_guard lock(mutex_);
    lag_ = std::move(lag);
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Lag> lag_;
};

class KafkaSource final : public Source {
 public:
  // `source` is this source's index in `commits`. Throws std::runtime_error when librdkafka
  // refuses the configuration (a bad property name or value) or the subscription.
  KafkaSource(const config::SourceConfig& spec, pipeline::EventRouter router,
              pipeline::CommitBoard& commits, std::size_t source, KafkaStats& stats);
  ~KafkaSource() override;
  void run(std::stop_token stop) override;
  bool bounded() const override { return false; }

 private:
  struct Partition {
    std::string topic;
    std::int32_t partition;
    rd_kafka_topic_s* handle = nullptr;  // as messages carry it, learnt from the first
    std::int64_t next_offset = -1;       // after the last message taken; -1: none yet
    std::int64_t start_offset = -1;      // where its consumption started; -1: not known
    std::int64_t max_time = pipeline::kMinTime;
    std::int64_t last_message = 0;  // steady clock (ns)
  };
  struct Offset {
    std::string topic;
    std::int32_t partition;
    std::int64_t offset;  // the next message to consume
  };
  struct Mark {
    std::uint64_t seq;
    std::int64_t max_time;  // the latest event time routed before it
    std::vector<Offset> offsets;
  };

  static void onRebalance(rd_kafka_s* rk, int err, rd_kafka_topic_partition_list_s* partitions,
                          void* opaque);
  static void onCommit(rd_kafka_s* rk, int err, rd_kafka_topic_partition_list_s* offsets,
                       void* opaque);
  void rebalance(int err, rd_kafka_topic_partition_list_s* partitions);
  // After the assignment changed: every partition from its committed offset, the stages told.
  void restart(bool cooperative);
  void take(const void* message, std::int64_t now, std::int64_t steady);
  Partition* partitionOf(rd_kafka_topic_s* handle, std::int32_t partition);
  void updateWatermark(std::int64_t steady);
  void sendMark(std::int64_t steady);
  // Commits the offsets of the latest safe mark; `sync` waits for the broker's answer.
  void commitSafe(bool sync);
  void refreshLag();

  const std::string name_;
  const config::SourceConfig spec_all_;  // for the decoder: format, csv columns
  const config::KafkaSpec spec_;
  const config::WatermarkSpec watermark_;
  pipeline::EventRouter router_;
  pipeline::CommitBoard& commits_;
  const std::size_t source_;
  KafkaStats& stats_;
  rd_kafka_s* rk_ = nullptr;
  rd_kafka_queue_s* queue_ = nullptr;
  std::vector<Partition> partitions_;  // the assignment
  std::size_t last_partition_ = 0;     // where the previous message's partition was found
  std::deque<Mark> marks_;             // sent, not yet committed
  std::uint64_t next_seq_ = 1;
  std::int64_t last_mark_ = 0;    // steady clock (ns)
  std::int64_t last_commit_ = 0;  // steady clock (ns): commits go out at most every interval
  std::uint64_t taken_since_mark_ = 0;
  std::int64_t last_message_ = 0;  // steady clock (ns): the latest message of any partition
  std::int64_t busy_since_ = 0;    // steady clock (ns): when messages resumed after a silence
  bool closing_ = false;
  std::vector<char> buffer_;  // a message, padded for the JSON parser
};

}  // namespace rivulet::connectors

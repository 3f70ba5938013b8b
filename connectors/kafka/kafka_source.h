// KafkaSource: a member of a Kafka consumer group (librdkafka), reading JSON events from the
// partitions the group assigns it.
// The details, precisely: docs/architecture.md, "The Kafka source".
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "connectors/kafka/kafka_position.h"
#include "connectors/kafka/kafka_secrets.h"
#include "connectors/sources/source.h"
#include "pipeline/checkpoint_board.h"
#include "pipeline/commit_board.h"
#include "pipeline/model/stats.h"

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
  // `source` is this source's index in `commits`; `checkpoints` is null without checkpoints.
  // Throws std::runtime_error when librdkafka refuses the configuration (a bad property name or
  // value) or the subscription.
  KafkaSource(const config::SourceConfig& spec, pipeline::EventRouter router,
              pipeline::CommitBoard& commits, std::size_t source, KafkaStats& stats,
              pipeline::CheckpointBoard* checkpoints = nullptr);
  ~KafkaSource() override;
  void run(std::stop_token stop) override;
  bool bounded() const override { return false; }
  // Keeps the checkpoint's partitions for the first assignment (see above).
  bool restore(std::string_view position) override;

 private:
  struct Partition {
    std::string topic;
    std::int32_t partition;
    rd_kafka_topic_s* handle = nullptr;  // as messages carry it, learnt from the first
    std::int64_t next_offset = -1;       // after the last message taken; -1: none yet
    std::int64_t start_offset = -1;      // where its consumption started; -1: not known
    std::int64_t max_time = pipeline::kMinTime;
    std::int64_t last_message = 0;  // steady clock (ns)
    // The floor of its committed offset (restart()), which its commits never go below; and the
    // same where it is above the floor the stages were reset to, else kMinTime: its replayed
    // events of windows published through it are late (EventRouter::setPublishedThrough).
    std::int64_t floor = pipeline::kMinTime;
    std::int64_t published_through = pipeline::kMinTime;
  };
  struct Offset {
    std::string topic;
    std::int32_t partition;
    std::int64_t offset;  // the next message to consume
    std::int64_t floor;   // its replay floor: the mark's, or the partition's own if above
  };
  struct Mark {
    std::uint64_t seq;
    std::int64_t max_time;  // the latest event time routed before it
    std::vector<Offset> offsets;
  };

  static void onLog(const rd_kafka_s* rk, int level, const char* facility, const char* message);
  static void onRebalance(rd_kafka_s* rk, int err, rd_kafka_topic_partition_list_s* partitions,
                          void* opaque);
  static void onCommit(rd_kafka_s* rk, int err, rd_kafka_topic_partition_list_s* offsets,
                       void* opaque);
  void rebalance(int err, rd_kafka_topic_partition_list_s* partitions);
  // Whether `assigned` is exactly the restored checkpoint's partitions, none of them with a
  // committed offset past the checkpoint's (asks the broker).
  bool resumes(const rd_kafka_topic_partition_list_s* assigned);
  // The offset a partition's consumption goes on from: after its last message, else where it
  // started; -1 if not known yet.
  std::int64_t offsetOf(Partition& p);
  KafkaPosition current();
  // The position for a checkpoint barrier (EventRouter::setPosition); notes the barrier's mark.
  std::string position();
  // The latest mark a durable checkpoint covers; every mark without checkpoints.
  std::uint64_t durableMark();
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
  // Scrubs the secret properties' values from what librdkafka logs or returns as an error.
  const KafkaSecrets secrets_;
  const config::WatermarkSpec watermark_;
  pipeline::EventRouter router_;
  pipeline::CommitBoard& commits_;
  const std::size_t source_;
  KafkaStats& stats_;
  rd_kafka_s* rk_ = nullptr;
  rd_kafka_queue_s* queue_ = nullptr;
  std::vector<Partition> partitions_;  // the assignment
  std::size_t last_partition_ = 0;     // where the previous message's partition was found
  // The active partition with the lowest promise at the last updateWatermark() (size(): none): a
  // message of it may raise the watermark.
  std::size_t lowest_ = 0;
  std::deque<Mark> marks_;  // sent, not yet committed
  std::uint64_t next_seq_ = 1;
  std::int64_t last_mark_ = 0;    // steady clock (ns)
  std::int64_t last_commit_ = 0;  // steady clock (ns): commits go out at most every interval
  std::uint64_t taken_since_mark_ = 0;
  std::int64_t last_message_ = 0;  // steady clock (ns): the latest message of any partition
  std::int64_t busy_since_ = 0;    // steady clock (ns): when messages resumed after a silence
  bool closing_ = false;

  // Checkpoints (null without).
  pipeline::CheckpointBoard* const checkpoints_;
  struct Barrier {
    std::uint64_t checkpoint;
    std::uint64_t mark;  // the latest mark sent before its barrier; 0 if none
  };
  std::deque<Barrier> barriers_;  // noted, not yet known to be durable
  std::uint64_t durable_mark_ = 0;
  std::optional<KafkaPosition> restored_;  // until the first assignment
  // The latest event time of the run the checkpoint was taken in: a mark's floor covers the
  // events before the restored offsets too.
  std::int64_t restored_max_time_ = pipeline::kMinTime;
  std::string final_position_;  // taken before the consumer leaves the group
  std::vector<char> buffer_;    // a message, padded for the JSON parser
};

}  // namespace rivulet::connectors

#include "connectors/kafka/kafka_source.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "connectors/formats/event_decoder.h"
#include "pipeline/runtime/clock.h"

namespace rivulet::connectors {
namespace {

using pipeline::bump;

constexpr int kPollMs = 100;          // how soon a stop request or idle partition is seen
constexpr std::size_t kBatch = 1024;  // messages taken per call
constexpr std::int64_t kLagEveryNs = 1'000'000'000;
constexpr int kBrokerTimeoutMs = 10'000;  // committed offsets and synchronous commits
constexpr int kCommittedAttempts = 3;
// A commit mark after this many messages at the latest, so that a backlog read in one go is
// committed in steps as its windows close, not only once the last of it is published.
constexpr std::uint64_t kMarkEvery = 4096;
constexpr std::size_t kPadding = 64;                         // >= simdjson::SIMDJSON_PADDING
constexpr std::string_view kFloorPrefix = "rivulet floor ";  // offset metadata: the replay floor
// Checkpoint barriers noted and not yet durable: more means checkpoints keep failing (a full
// disk); the oldest are forgotten, which only holds their commits back until a later one is
// durable.
constexpr std::size_t kMaxBarriers = 64;

struct ListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, ListDeleter>;

PartitionList newList(std::size_t size) {
  return PartitionList(
      rd_kafka_topic_partition_list_new(static_cast<int>(std::max<std::size_t>(size, 1))));
}

void set(rd_kafka_conf_t* conf, const std::string& source, const KafkaSecrets& secrets,
         const std::string& key, const std::string& value) {
  char error[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error, sizeof error) !=
      RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error("source " + source + ": kafka property " + key + ": " +
                             secrets.scrub(error));
  }
}

// The replay floor in a committed offset's metadata; kMinTime when there is none.
std::int64_t floorOf(const rd_kafka_topic_partition_t& p) {
  const std::string_view metadata(static_cast<const char*>(p.metadata), p.metadata_size);
  if (p.metadata == nullptr || !metadata.starts_with(kFloorPrefix)) return pipeline::kMinTime;
  std::int64_t floor = pipeline::kMinTime;
  const std::string_view digits = metadata.substr(kFloorPrefix.size());
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), floor);
  return ec == std::errc() && end == digits.data() + digits.size() ? floor : pipeline::kMinTime;
}

}  // namespace

KafkaSource::KafkaSource(const config::SourceConfig& spec, pipeline::EventRouter router,
                         pipeline::CommitBoard& commits, std::size_t source, KafkaStats& stats,
                         pipeline::CheckpointBoard* checkpoints)
    : name_(spec.name),
      spec_all_(spec),
      spec_(spec.kafka),
      secrets_(spec.kafka.properties),
      watermark_(spec.watermark),
      router_(std::move(router)),
      commits_(commits),
      source_(source),
      stats_(stats),
      checkpoints_(checkpoints),
      buffer_(1 << 20) {
  if (checkpoints_ != nullptr) router_.setPosition([this] { return position(); });
  // The watermark is the partitions' (updateWatermark), from the first event on: never the
  // latest event time of whichever partition was read first.
  if (spec.time) router_.setWatermark(pipeline::kMinTime);
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // First: librdkafka logs while it applies the settings below.
  rd_kafka_conf_set_log_cb(conf, onLog);
  const auto put = [&](const std::string& key, const std::string& value) {
    set(conf, name_, secrets_, key, value);
  };
  put("bootstrap.servers", spec_.brokers);
  put("group.id", spec_.group);
  put("enable.auto.commit", "false");
  put("enable.auto.offset.store", "false");
  // A new group reads what the topic holds, rather than only what arrives from now on.
  put("auto.offset.reset", "earliest");
  put("client.id", "rivulet-" + name_);
  // librdkafka stops fetching while its queue holds queued.min.messages (100000 by default, over
  // all partitions) and looks again only after a second (librdkafka 2.0; later versions made it
  // fetch.queue.backoff.ms): a source catching up on a backlog drains 100000 messages in well
  // under that second, then waits, at a third of its speed. Up to 1000000 (and, as before,
  // queued.max.messages.kbytes of payload) it keeps going; `properties` can set either lower.
  put("queued.min.messages", "1000000");
  for (const auto& [key, value] : spec_.properties) put(key, value);
  rd_kafka_conf_set_rebalance_cb(
      conf, [](rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions,
               void* opaque) { onRebalance(rk, static_cast<int>(err), partitions, opaque); });
  rd_kafka_conf_set_offset_commit_cb(
      conf, [](rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* offsets,
               void* opaque) { onCommit(rk, static_cast<int>(err), offsets, opaque); });
  rd_kafka_conf_set_opaque(conf, this);

  char error[512];
  rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);  // takes conf, also on failure
  if (rk_ == nullptr) {
    throw std::runtime_error("source " + name_ + ": kafka: " + secrets_.scrub(error));
  }
  rd_kafka_poll_set_consumer(rk_);
  queue_ = rd_kafka_queue_get_consumer(rk_);

  PartitionList topics = newList(spec_.topics.size());
  for (const std::string& topic : spec_.topics) {
    rd_kafka_topic_partition_list_add(topics.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  }
  if (const rd_kafka_resp_err_t err = rd_kafka_subscribe(rk_, topics.get())) {
    throw std::runtime_error("source " + name_ + ": kafka subscribe: " + rd_kafka_err2str(err));
  }
}

// librdkafka's own log line in rd_kafka_log_print's format (to stderr, like the daemon's log),
// with the source's secrets scrubbed. librdkafka's threads call it: it only reads.
void KafkaSource::onLog(const rd_kafka_s* rk, int level, const char* facility,
                        const char* message) {
  // The opaque is set before rd_kafka_new, so it is there for the first line already.
  printKafkaLog(static_cast<const KafkaSource*>(rd_kafka_opaque(rk))->secrets_, rk, level, facility,
                message);
}

KafkaSource::~KafkaSource() {
  if (queue_ != nullptr) rd_kafka_queue_destroy(queue_);
  // Closed by run(); a source that never ran leaves the group without a rebalance callback
  // (which would reach for the router and the commit board as the engine comes down).
  if (rk_ != nullptr)
    rd_kafka_destroy_flags(rk_, closing_ ? 0 : RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
}

void KafkaSource::run(std::stop_token stop) {
  EventDecoder decoder(router_, spec_all_);
  rd_kafka_message_t* batch[kBatch];
  std::int64_t last_lag = 0;
  while (!stop.stop_requested()) {
    // What is there, at once; else the next message as soon as it arrives. (A batch call with a
    // timeout waits until the batch is full or the time is up: up to kPollMs of latency.)
    ssize_t n = rd_kafka_consume_batch_queue(queue_, 0, batch, kBatch);
    if (n == 0) {
      batch[0] = rd_kafka_consume_queue(queue_, kPollMs);
      n = batch[0] != nullptr ? 1 : 0;
    }
    const std::int64_t now = pipeline::wallNanos();
    const std::int64_t steady = pipeline::steadyNanos();
    if (n > 0) {
      // Messages after a silence of the whole source as long as `idle`: a partition counts
      // as idle only once it has been silent that long since, while the others had messages.
      if (steady - last_message_ >= watermark_.idle) busy_since_ = steady;
      last_message_ = steady;
    }
    for (ssize_t i = 0; i < n; ++i) {
      const rd_kafka_message_t* m = batch[i];
      if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) bump(stats_.consumer_errors);
      } else if (Partition* p = partitionOf(m->rkt, m->partition)) {
        // simdjson reads up to kPadding bytes past the end: the message goes to a padded buffer.
        if (buffer_.size() < m->len + kPadding) buffer_.resize(m->len + kPadding);
        std::memcpy(buffer_.data(), m->payload, m->len);
        const std::string_view text(buffer_.data(), m->len);
        router_.setPublishedThrough(p->published_through);
        const pipeline::ErrorReason refused = decoder.message(text, buffer_.size(), now);
        p->next_offset = m->offset + 1;
        p->last_message = steady;
        ++taken_since_mark_;
        if (refused == pipeline::ErrorReason::kNone && router_.lastTime() > p->max_time) {
          p->max_time = router_.lastTime();
          // Lateness is judged per event: the partition holding the watermark back moved it,
          // so the next message is judged against the new one.
          if (lowest_ >= partitions_.size() || p == &partitions_[lowest_]) updateWatermark(steady);
        }
      }
      rd_kafka_message_destroy(batch[i]);
    }
    updateWatermark(steady);
    router_.flush(now, steady);
    if (taken_since_mark_ >= kMarkEvery || steady - last_mark_ >= spec_.commit_interval) {
      sendMark(steady);
    }
    if (steady - last_commit_ >= spec_.commit_interval) {
      commitSafe(false);
      last_commit_ = steady;
    }
    if (steady - last_lag >= kLagEveryNs) {
      refreshLag();
      last_lag = steady;
    }
  }
  // Stopping: what is safe is committed; windows flushed as partial at shutdown are not, so a
  // restart consumes their events again and publishes them complete.
  commitSafe(true);
  // The final position (EventRouter::end) while the partitions are still ours: leaving the
  // group revokes them.
  if (checkpoints_ != nullptr) final_position_ = encodeKafkaPosition(current());
  closing_ = true;
  rd_kafka_consumer_close(rk_);
  router_.flush(pipeline::wallNanos(), pipeline::steadyNanos());
  router_.end(true);
}

KafkaSource::Partition* KafkaSource::partitionOf(rd_kafka_topic_t* handle, std::int32_t partition) {
  if (last_partition_ < partitions_.size()) {
    Partition& p = partitions_[last_partition_];
    if (p.handle == handle && p.partition == partition) return &p;
  }
  for (std::size_t i = 0; i < partitions_.size(); ++i) {
    Partition& p = partitions_[i];
    if (p.partition != partition) continue;
    if (p.handle == nullptr && p.topic == rd_kafka_topic_name(handle)) p.handle = handle;
    if (p.handle != handle) continue;
    last_partition_ = i;
    return &p;
  }
  return nullptr;  // from a partition no longer assigned: dropped, it will be consumed again
}

void KafkaSource::updateWatermark(std::int64_t steady) {
  if (router_.plan().time_field < 0 || partitions_.empty()) return;
  // A partition promises no event below its latest time minus the delay; one without events
  // promises nothing and holds the watermark back, unless idle. When every partition is idle,
  // each with events goes on from its last event with the wall clock (latest time + silence -
  // delay) and the watermark is their minimum, so the last windows close after `idle` of silence
  // instead of waiting for the next event.
  std::int64_t active = pipeline::kMaxTime;
  std::int64_t idle = pipeline::kMaxTime;
  std::size_t lowest = partitions_.size();
  for (std::size_t i = 0; i < partitions_.size(); ++i) {
    const Partition& p = partitions_[i];
    const std::int64_t delay = watermark_.delay;
    const auto promise = [&](std::int64_t reached) {
      return reached < pipeline::kMinTime + delay ? pipeline::kMinTime : reached - delay;
    };
    if (watermark_.idle > 0 && steady - std::max(p.last_message, busy_since_) >= watermark_.idle) {
      if (p.max_time != pipeline::kMinTime) {
        idle =
            std::min(idle, promise(pipeline::saturatingAdd(p.max_time, steady - p.last_message)));
      }
    } else if (promise(p.max_time) < active || lowest == partitions_.size()) {
      active = promise(p.max_time);
      lowest = i;
    }
  }
  lowest_ = lowest;
  if (active != pipeline::kMaxTime) {
    router_.setWatermark(active);
  } else if (idle != pipeline::kMaxTime) {
    router_.setWatermark(idle);
  }
}

void KafkaSource::sendMark(std::int64_t steady) {
  last_mark_ = steady;
  if (taken_since_mark_ == 0) return;
  // Every partition goes into the mark, so that all carry its floor once it is committed. One
  // without a message since the assignment goes in at the offset its consumption starts from:
  // its events are all after the mark, like the rest of a partition that has been read. (Were it
  // to hold events at or below the floor, it was idle when the mark was passed on, and they were
  // late then as they are after a restart.) A partition whose committed floor is higher keeps
  // that one: the windows through it were published before, with its events up to its offset.
  Mark mark{0, std::max(router_.maxTime(), restored_max_time_), {}};
  for (Partition& p : partitions_) {
    const std::int64_t offset = offsetOf(p);
    // Not known yet (no fetch answered): no mark until it is. A mark without the partition
    // would commit the others past their events while it kept no offset, and a restart would
    // replay only its part of the windows they share, reopening them with part of their events.
    if (offset < 0) return;
    mark.offsets.push_back(Offset{p.topic, p.partition, offset, std::max(mark.max_time, p.floor)});
  }
  taken_since_mark_ = 0;
  mark.seq = next_seq_++;
  router_.mark(mark.seq);
  marks_.push_back(std::move(mark));
}

std::int64_t KafkaSource::offsetOf(Partition& p) {
  if (p.next_offset >= 0) return p.next_offset;
  if (p.start_offset < 0) {
    // Never committed: auto.offset.reset=earliest starts it at its first offset, which the
    // client knows once it has fetched from the partition (asking the broker here would stall
    // the source thread for a round trip).
    std::int64_t low = -1;
    std::int64_t high = -1;
    if (rd_kafka_get_watermark_offsets(rk_, p.topic.c_str(), p.partition, &low, &high) ==
            RD_KAFKA_RESP_ERR_NO_ERROR &&
        low >= 0) {
      p.start_offset = low;
    }
  }
  return p.start_offset >= 0 ? p.start_offset : -1;
}

KafkaPosition KafkaSource::current() {
  // Started from a checkpoint and not assigned yet (joining the group takes seconds): nothing has
  // been consumed, the state is still the checkpoint's, and so is the position. Without this, a
  // crash during the join would leave a checkpoint without partitions, which cannot be resumed.
  if (restored_) return *restored_;
  KafkaPosition position{std::max(router_.maxTime(), restored_max_time_), {}};
  for (Partition& p : partitions_) {
    position.partitions.push_back({p.topic, p.partition, offsetOf(p), p.max_time});
  }
  return position;
}

// On this thread, in router_.flush(), at barrier `requested()` (the next is requested only once
// this one is complete, so the id cannot move meanwhile), or in router_.end() for the final one.
std::string KafkaSource::position() {
  if (closing_) return final_position_;
  // The marks sent so far are ahead of the barrier in every ring: the checkpoint holds the state
  // their windows are in, or their results.
  barriers_.push_back(Barrier{checkpoints_->requested(), next_seq_ - 1});
  if (barriers_.size() > kMaxBarriers) barriers_.pop_front();
  return encodeKafkaPosition(current());
}

std::uint64_t KafkaSource::durableMark() {
  if (checkpoints_ == nullptr) return UINT64_MAX;
  const std::uint64_t durable = checkpoints_->durable();
  while (!barriers_.empty() && barriers_.front().checkpoint <= durable) {
    durable_mark_ = barriers_.front().mark;
    barriers_.pop_front();
  }
  return durable_mark_;
}

bool KafkaSource::restore(std::string_view position) {
  if (position.empty()) return true;
  std::optional<KafkaPosition> decoded = decodeKafkaPosition(position);
  if (!decoded) return false;
  restored_max_time_ = decoded->max_time;
  // A partition whose offset was not known cannot be resumed exactly: the first assignment then
  // restarts from the committed offsets, as without a checkpoint.
  const bool exact = !decoded->partitions.empty() &&
                     std::all_of(decoded->partitions.begin(), decoded->partitions.end(),
                                 [](const KafkaPosition::Partition& p) { return p.offset >= 0; });
  if (exact) restored_ = std::move(decoded);
  return true;
}

bool KafkaSource::resumes(const rd_kafka_topic_partition_list_t* assigned) {
  if (!restored_ || static_cast<std::size_t>(assigned->cnt) != restored_->partitions.size()) {
    return false;
  }
  PartitionList committed = newList(restored_->partitions.size());
  for (const KafkaPosition::Partition& r : restored_->partitions) {
    rd_kafka_topic_partition_list_add(committed.get(), r.topic.c_str(), r.partition);
  }
  for (int i = 0; i < assigned->cnt; ++i) {
    const rd_kafka_topic_partition_t& a = assigned->elems[i];
    if (rd_kafka_topic_partition_list_find(committed.get(), a.topic, a.partition) == nullptr) {
      return false;
    }
  }
  // The group's offsets ahead of the checkpoint's: another instance consumed these partitions
  // (and published their windows) while this one was down. Resuming would publish those windows
  // again and move the offsets back; the restart from the committed offsets does neither. This
  // instance's own commits never pass its latest durable checkpoint, so a single instance always
  // resumes. Without an answer from the broker, the checkpoint is the best there is.
  if (rd_kafka_committed(rk_, committed.get(), kBrokerTimeoutMs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (const KafkaPosition::Partition& r : restored_->partitions) {
      const rd_kafka_topic_partition_t* c =
          rd_kafka_topic_partition_list_find(committed.get(), r.topic.c_str(), r.partition);
      if (c != nullptr && c->offset > r.offset) return false;
    }
  }
  return true;
}

void KafkaSource::commitSafe(bool sync) {
  // With checkpoints, only what a durable checkpoint covers: the group's offsets never run ahead
  // of the state on disk.
  const std::uint64_t safe = std::min(commits_.safe(source_), durableMark());
  if (marks_.empty() || marks_.front().seq > safe) return;
  while (marks_.size() > 1 && marks_[1].seq <= safe) marks_.pop_front();
  const Mark mark = std::move(marks_.front());
  marks_.pop_front();
  if (mark.offsets.empty()) return;
  PartitionList list = newList(mark.offsets.size());
  for (const Offset& o : mark.offsets) {
    rd_kafka_topic_partition_t* p =
        rd_kafka_topic_partition_list_add(list.get(), o.topic.c_str(), o.partition);
    p->offset = o.offset;
    const std::string metadata = std::string(kFloorPrefix) + std::to_string(o.floor);
    p->metadata = std::malloc(metadata.size());  // the list frees it
    std::memcpy(p->metadata, metadata.data(), metadata.size());
    p->metadata_size = metadata.size();
  }
  const rd_kafka_resp_err_t err = rd_kafka_commit(rk_, list.get(), sync ? 0 : 1);
  // Asynchronous commits are counted by onCommit; a synchronous one is counted here (its
  // callback is served only by a later poll, if at all).
  if (sync) bump(err == RD_KAFKA_RESP_ERR_NO_ERROR ? stats_.commits : stats_.commit_errors);
}

void KafkaSource::onCommit(rd_kafka_t*, int err, rd_kafka_topic_partition_list_t*, void* opaque) {
  auto* self = static_cast<KafkaSource*>(opaque);
  bump(err == RD_KAFKA_RESP_ERR_NO_ERROR ? self->stats_.commits : self->stats_.commit_errors);
}

void KafkaSource::onRebalance(rd_kafka_t*, int err, rd_kafka_topic_partition_list_t* partitions,
                              void* opaque) {
  static_cast<KafkaSource*>(opaque)->rebalance(err, partitions);
}

void KafkaSource::rebalance(int err, rd_kafka_topic_partition_list_t* partitions) {
  const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk_), "COOPERATIVE") == 0;
  // The first assignment after a start from a checkpoint, of exactly its partitions: each goes
  // on from its checkpointed offset, under the restored state, and the stages are not reset.
  const bool resume = err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS && resumes(partitions);
  if (resume) {
    for (int i = 0; i < partitions->cnt; ++i) {
      rd_kafka_topic_partition_t& p = partitions->elems[i];
      for (const KafkaPosition::Partition& r : restored_->partitions) {
        if (r.partition == p.partition && r.topic == p.topic) p.offset = r.offset;
      }
    }
  }
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    if (cooperative) {
      if (rd_kafka_error_t* e = rd_kafka_incremental_assign(rk_, partitions)) {
        rd_kafka_error_destroy(e);
        bump(stats_.consumer_errors);
      }
    } else {
      rd_kafka_assign(rk_, partitions);
    }
    const std::int64_t steady = pipeline::steadyNanos();
    for (int i = 0; i < partitions->cnt; ++i) {
      const rd_kafka_topic_partition_t& p = partitions->elems[i];
      partitions_.push_back(Partition{p.topic, p.partition});
      if (!resume) continue;
      Partition& added = partitions_.back();
      added.start_offset = p.offset;
      added.last_message = steady;
      for (const KafkaPosition::Partition& r : restored_->partitions) {
        if (r.partition == p.partition && r.topic == p.topic) added.max_time = r.max_time;
      }
    }
  } else {
    // Revoked: commit what is safe while the partitions are still ours (not if the group has
    // already given them to another member).
    if (!rd_kafka_assignment_lost(rk_)) commitSafe(true);
    if (cooperative) {
      if (rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk_, partitions)) {
        rd_kafka_error_destroy(e);
        bump(stats_.consumer_errors);
      }
    } else {
      rd_kafka_assign(rk_, nullptr);
    }
    std::erase_if(partitions_, [&](const Partition& kept) {
      for (int i = 0; i < partitions->cnt; ++i) {
        const rd_kafka_topic_partition_t& p = partitions->elems[i];
        if (p.partition == kept.partition && kept.topic == p.topic) return true;
      }
      return false;
    });
  }
  last_partition_ = 0;
  bump(stats_.rebalances);
  // Any other assignment drops the restored state with the rest (restart's kReset).
  restored_.reset();
  if (!closing_ && !resume) restart(cooperative);
}

void KafkaSource::restart(bool cooperative) {
  marks_.clear();
  for (Partition& p : partitions_) p.start_offset = -1;
  const std::int64_t steady = pipeline::steadyNanos();
  std::int64_t floor = pipeline::kMinTime;
  if (!partitions_.empty()) {
    PartitionList list = newList(partitions_.size());
    for (const Partition& p : partitions_) {
      rd_kafka_topic_partition_list_add(list.get(), p.topic.c_str(), p.partition);
    }
    // The stages are reset to the lowest floor of all: a partition without one is consumed from
    // its start, and a floor above some partition's would count that partition's unpublished
    // events as late. A partition with a higher floor (committed by an instance that had it
    // while others had the rest) has its own replayed events of windows published through it
    // counted late as they are routed. Without an answer there is no floor: windows may then be
    // published again with part of their events (never lose any).
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    for (int attempt = 0; attempt < kCommittedAttempts; ++attempt) {
      err = rd_kafka_committed(rk_, list.get(), kBrokerTimeoutMs);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
    }
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      floor = pipeline::kMaxTime;
      for (int i = 0; i < list->cnt; ++i) {
        Partition& p = partitions_[static_cast<std::size_t>(i)];
        p.floor = floorOf(list->elems[i]);
        p.start_offset = list->elems[i].offset;
        floor = std::min(floor, p.floor);
      }
    } else {
      for (Partition& p : partitions_) p.floor = pipeline::kMinTime;
      bump(stats_.consumer_errors);
    }
    // An eager assignment starts every partition at its committed offset. A cooperative one
    // keeps the partitions it already had where they are: they are assigned again, without an
    // offset, which starts them at their committed one (auto.offset.reset if none).
    if (cooperative) {
      for (int i = 0; i < list->cnt; ++i) list->elems[i].offset = RD_KAFKA_OFFSET_INVALID;
      rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk_, list.get());
      if (e == nullptr) e = rd_kafka_incremental_assign(rk_, list.get());
      if (e != nullptr) {
        rd_kafka_error_destroy(e);
        bump(stats_.consumer_errors);
      }
    }
  }
  for (Partition& p : partitions_) {
    p.next_offset = -1;
    p.max_time = pipeline::kMinTime;
    p.last_message = steady;
    p.published_through = p.floor > floor ? p.floor : pipeline::kMinTime;
  }
  router_.reset(floor);
}

void KafkaSource::refreshLag() {
  std::vector<KafkaStats::Lag> lag;
  for (const Partition& p : partitions_) {
    std::int64_t low = 0;
    std::int64_t high = 0;
    if (rd_kafka_get_watermark_offsets(rk_, p.topic.c_str(), p.partition, &low, &high) !=
            RD_KAFKA_RESP_ERR_NO_ERROR ||
        high < 0) {
      continue;
    }
    const std::int64_t next = p.next_offset >= 0 ? p.next_offset : low;
    lag.push_back(KafkaStats::Lag{p.topic, p.partition, std::max<std::int64_t>(0, high - next)});
  }
  stats_.setLag(std::move(lag));
}

}  // namespace rivulet::connectors

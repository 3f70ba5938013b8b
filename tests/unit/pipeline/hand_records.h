// Hand-made records for driving a Stage or the Publisher over real rings (what a source sends a
// stage, what a stage sends the publisher), and the reading of what they send on.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/model/key.h"
#include "pipeline/model/record.h"
#include "pipeline/runtime/doorbell.h"
#include "pipeline/stage.h"
#include "pipeline/windows/operator.h"

namespace rivulet::testutil {

// One record copied out of a ring.
struct OutRecord {
  pipeline::RecordHeader header{};
  std::string payload;  // the bytes after the header, in whole cells

  pipeline::RecordType type() const { return header.type; }
  template <typename T>
  T get(std::size_t offset = 0) const {
    T value;
    std::memcpy(&value, payload.data() + offset, sizeof value);
    return value;
  }
  // kResult: its topic and its payload minus the pipeline and seq (pipeline/stage.h).
  std::string_view topic() const {
    const auto prefix = get<pipeline::ResultPrefix>();
    return std::string_view(payload).substr(sizeof prefix, prefix.topic_size);
  }
  std::string_view tail() const {
    const auto prefix = get<pipeline::ResultPrefix>();
    return std::string_view(payload).substr(sizeof prefix + prefix.topic_size, prefix.tail_size);
  }
  pipeline::ResultKind kind() const { return static_cast<pipeline::ResultKind>(header.flags); }
};

// The producer side of one ring: each call stages a record, publishes it at once and rings the
// consumer's doorbell, if given.
class RecordSender {
 public:
  explicit RecordSender(pipeline::Ring& ring, pipeline::Doorbell* bell = nullptr)
      : ring_(ring), bell_(bell) {}

  // The consumer has read every record sent (acquire: and is done with them).
  bool consumed() { return ring_.hasRoom(ring_.capacity()); }

  // ---- source -> stage ----
  // An event of `pipeline`: one value per PipelinePlan::value_fields, then a key of string parts,
  // then (when given) the raw text a late topic publishes. `type`: kEvent or kPublishedEvent.
  void event(std::uint16_t pipeline, std::int64_t time, std::initializer_list<double> values,
             std::initializer_list<std::string_view> key, std::string_view raw = {},
             pipeline::RecordType type = pipeline::RecordType::kEvent) {
    record_.start(type, pipeline, time);
    for (const double v : values) record_.append(&v, sizeof v);
    std::string encoded;
    for (const std::string_view part : key) {
      pipeline::appendKeyPart(encoded, pipeline::KeyPartType::kString, part);
    }
    record_.header().key_size = static_cast<std::uint16_t>(encoded.size());
    record_.append(encoded);
    if (!raw.empty()) {
      const auto size = static_cast<std::uint32_t>(raw.size());
      record_.append(&size, sizeof size);
      record_.append(raw);
      record_.header().flags |= pipeline::kEventRaw;
    }
    send();
  }
  void watermark(std::int64_t time) { control(pipeline::RecordType::kWatermark, 0, time); }
  void idle(std::int64_t time) { control(pipeline::RecordType::kIdle, 0, time); }
  void end(bool stopped) {
    control(pipeline::RecordType::kEnd, 0, pipeline::kMaxTime, stopped ? pipeline::kEndStopped : 0);
  }
  // A commit mark of the events before it, the latest of them at `max_time`.
  void mark(std::uint64_t seq, std::int64_t max_time) {
    control(pipeline::RecordType::kMark, 0, max_time, 0, &seq, sizeof seq);
  }
  void reset(std::int64_t floor) { control(pipeline::RecordType::kReset, 0, floor); }
  void barrier(std::uint64_t id) {
    control(pipeline::RecordType::kBarrier, 0, static_cast<std::int64_t>(id));
  }

  // ---- stage -> publisher ----
  // The stage's part of checkpoint `id` is on the board.
  void snapshotDone(std::uint64_t id) {
    control(pipeline::RecordType::kSnapshotDone, 0, static_cast<std::int64_t>(id));
  }
  void result(std::uint16_t pipeline, pipeline::ResultKind kind, std::int64_t end,
              std::string_view topic, std::string_view tail, double rank_value = 0) {
    const pipeline::ResultPrefix prefix{0, static_cast<std::uint32_t>(topic.size()),
                                        static_cast<std::uint32_t>(tail.size()), rank_value};
    record_.start(pipeline::RecordType::kResult, pipeline, end);
    record_.header().flags = static_cast<std::uint8_t>(kind);
    record_.append(&prefix, sizeof prefix);
    record_.append(topic);
    record_.append(tail);
    send();
  }
  void windowEnd(std::uint16_t pipeline, std::int64_t start, std::int64_t end,
                 std::uint64_t results) {
    const pipeline::WindowEndPayload window{start, results};
    control(pipeline::RecordType::kWindowEnd, pipeline, end, 0, &window, sizeof window);
  }
  void stageWatermark(std::uint16_t pipeline, std::int64_t time) {
    control(pipeline::RecordType::kWatermark, pipeline, time);
  }
  void stageMark(std::uint16_t source, std::uint64_t seq) {
    control(pipeline::RecordType::kMark, source, 0, 0, &seq, sizeof seq);
  }
  void late(std::uint16_t pipeline, std::string_view topic, std::string_view raw) {
    const pipeline::LatePayload sizes{static_cast<std::uint32_t>(topic.size()),
                                      static_cast<std::uint32_t>(raw.size())};
    record_.start(pipeline::RecordType::kLate, pipeline, 0);
    record_.append(&sizes, sizeof sizes);
    record_.append(topic);
    record_.append(raw);
    send();
  }

  void control(pipeline::RecordType type, std::uint16_t pipeline, std::int64_t time,
               std::uint8_t flags = 0, const void* data = nullptr, std::size_t size = 0) {
    record_.start(type, pipeline, time);
    record_.header().flags = flags;
    if (size > 0) record_.append(data, size);
    send();
  }

 private:
  void send() {
    const std::span<const pipeline::Cell> cells = record_.finish();
    ASSERT_TRUE(ring_.tryPush(cells.data(), cells.size())) << "a test ring is too small";
    ring_.publish();
    if (bell_ != nullptr) bell_->ring();
  }

  pipeline::Ring& ring_;
  pipeline::Doorbell* bell_;
  pipeline::RecordBuilder record_;
};

// Every published record of `ring`, consumed.
inline std::vector<OutRecord> readAll(pipeline::Ring& ring) {
  std::vector<OutRecord> out;
  pipeline::RecordReader reader;
  const std::size_t available = ring.available();
  std::size_t offset = 0;
  while (const pipeline::RecordHeader* h = reader.peek(ring, offset, available)) {
    OutRecord r;
    r.header = *h;
    r.payload.assign(reinterpret_cast<const char*>(pipeline::payload(h)),
                     h->cells * sizeof(pipeline::Cell) - sizeof(pipeline::RecordHeader));
    out.push_back(std::move(r));
    offset += h->cells;
  }
  ring.consume(offset);
  return out;
}

}  // namespace rivulet::testutil

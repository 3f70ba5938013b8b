// KafkaPosition: a kafka source's position in a checkpoint. Per assigned partition the next offset
// to consume and its latest event time (its watermark promise), and the latest event time the
// source had routed (the floor its next commit marks start from). Encoded like the other
// checkpoint parts (pipeline/model/snapshot.h): little-endian fixed-width fields, length-prefixed
// bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rivulet::connectors {

struct KafkaPosition {
  struct Partition {
    std::string topic;
    std::int32_t partition = 0;
    // The next message to consume; -1 when not known yet (nothing taken since the assignment
    // and no committed or first offset learnt): it then starts where the group would start it.
    std::int64_t offset = -1;
    std::int64_t max_time = 0;  // pipeline::kMinTime before its first event
    bool operator==(const Partition&) const = default;
  };
  std::int64_t max_time = 0;  // the source's latest routed event time; kMinTime before any
  std::vector<Partition> partitions;
  bool operator==(const KafkaPosition&) const = default;
};

// ['K'][max_time:i64][partitions:u32] then per partition [topic:bytes][partition:i32]
// [offset:i64][max_time:i64].
std::string encodeKafkaPosition(const KafkaPosition& position);
// Nullopt when `bytes` is not such an encoding (truncated, trailing bytes, another source's).
std::optional<KafkaPosition> decodeKafkaPosition(std::string_view bytes);

}  // namespace rivulet::connectors

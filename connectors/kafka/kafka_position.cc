#include "connectors/kafka/kafka_position.h"

#include "pipeline/model/snapshot.h"

namespace rivulet::connectors {
namespace {

constexpr std::uint8_t kFormat = 'K';
// The smallest encoded partition: an empty topic's length, partition, offset, time.
constexpr std::size_t kMinPartitionBytes = 4 + 4 + 8 + 8;

}  // namespace

std::string encodeKafkaPosition(const KafkaPosition& position) {
  pipeline::SnapshotWriter out;
  out.put<std::uint8_t>(kFormat);
  out.put<std::int64_t>(position.max_time);
  out.put<std::uint32_t>(static_cast<std::uint32_t>(position.partitions.size()));
  for (const KafkaPosition::Partition& p : position.partitions) {
    out.putBytes(p.topic);
    out.put<std::int32_t>(p.partition);
    out.put<std::int64_t>(p.offset);
    out.put<std::int64_t>(p.max_time);
  }
  return out.take();
}

std::optional<KafkaPosition> decodeKafkaPosition(std::string_view bytes) {
  pipeline::SnapshotReader in(bytes);
  if (in.get<std::uint8_t>() != kFormat) return std::nullopt;
  KafkaPosition position;
  position.max_time = in.get<std::int64_t>();
  const std::uint32_t count = in.getCount(kMinPartitionBytes);
  for (std::uint32_t i = 0; i < count && in.ok(); ++i) {
    KafkaPosition::Partition p;
    p.topic = std::string(in.getBytes());
    p.partition = in.get<std::int32_t>();
    p.offset = in.get<std::int64_t>();
    p.max_time = in.get<std::int64_t>();
    if (p.offset < -1 || p.partition < 0) in.fail();
    position.partitions.push_back(std::move(p));
  }
  if (!in.done()) return std::nullopt;
  return position;
}

}  // namespace rivulet::connectors

// A kafka source's checkpoint position (connectors/kafka/kafka_position.h): what is encoded comes
// back whole, and what is not one is refused rather than misread.
#include "connectors/kafka/kafka_position.h"

#include <gtest/gtest.h>

#include <limits>

namespace rivulet::connectors {
namespace {

constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();

KafkaPosition example() {
  return KafkaPosition{1'700'000'123'456'000'000,
                       {{"trades", 0, 4711, 1'700'000'123'000'000'000},
                        {"trades", 2, 0, kMin},   // assigned, no event yet
                        {"quotes", 7, -1, kMin},  // offset not known yet
                        {"", 3, 9'000'000'000, 5}}};
}

TEST(KafkaPosition, RoundTrips) {
  const KafkaPosition position = example();
  const std::string bytes = encodeKafkaPosition(position);
  const std::optional<KafkaPosition> decoded = decodeKafkaPosition(bytes);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, position);
  EXPECT_EQ(encodeKafkaPosition(*decoded), bytes);
}

TEST(KafkaPosition, NoPartitionsRoundTrips) {
  const KafkaPosition position{kMin, {}};
  const std::optional<KafkaPosition> decoded = decodeKafkaPosition(encodeKafkaPosition(position));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, position);
}

TEST(KafkaPosition, TruncatedOrLongerIsRefused) {
  const std::string bytes = encodeKafkaPosition(example());
  for (std::size_t size = 0; size < bytes.size(); ++size) {
    EXPECT_FALSE(decodeKafkaPosition(bytes.substr(0, size)).has_value()) << size;
  }
  EXPECT_FALSE(decodeKafkaPosition(bytes + '\0').has_value());
}

TEST(KafkaPosition, AnotherSourcesPositionIsRefused) {
  std::string bytes = encodeKafkaPosition(example());
  bytes[0] = 'F';
  EXPECT_FALSE(decodeKafkaPosition(bytes).has_value());
  // A file source's position: [device:u64][inode:u64][offset:u64][header].
  EXPECT_FALSE(decodeKafkaPosition(std::string(28, '\1')).has_value());
}

TEST(KafkaPosition, ImpossibleValuesAreRefused) {
  KafkaPosition negative_offset = example();
  negative_offset.partitions[0].offset = -2;
  EXPECT_FALSE(decodeKafkaPosition(encodeKafkaPosition(negative_offset)).has_value());
  KafkaPosition negative_partition = example();
  negative_partition.partitions[1].partition = -1;
  EXPECT_FALSE(decodeKafkaPosition(encodeKafkaPosition(negative_partition)).has_value());
  // A partition count the bytes cannot hold fails before anything is reserved.
  std::string bytes = encodeKafkaPosition(KafkaPosition{0, {}});
  bytes[9] = '\xff';
  bytes[10] = '\xff';
  EXPECT_FALSE(decodeKafkaPosition(bytes).has_value());
}

}  // namespace
}  // namespace rivulet::connectors

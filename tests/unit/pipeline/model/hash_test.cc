#include "pipeline/model/hash.h"

#include <gtest/gtest.h>

#include <bit>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "pipeline/event_router.h"
#include "pipeline/model/key.h"

namespace rivulet::pipeline {
namespace {

// Pearson's chi-square statistic of `counts` against a uniform distribution.
double chiSquare(const std::vector<int>& counts, int total) {
  const double expected = static_cast<double>(total) / static_cast<double>(counts.size());
  double chi = 0;
  for (int c : counts) chi += (c - expected) * (c - expected) / expected;
  return chi;
}

std::vector<std::string> sequentialKeys(int n) {
  std::vector<std::string> keys;
  for (int i = 0; i < n; ++i) keys.push_back("k" + std::to_string(i));
  return keys;
}

TEST(HashKey, SameBytesSameHashDifferentBytesDifferentHash) {
  EXPECT_EQ(hashKey("AAPL"), hashKey(std::string("AAPL")));
  std::set<std::uint64_t> seen;
  for (const std::string& k : sequentialKeys(100'000)) seen.insert(hashKey(k));
  EXPECT_EQ(seen.size(), 100'000u);
  // Length is part of the hash: zero bytes are not ignored.
  EXPECT_NE(hashKey(std::string_view("\0", 1)), hashKey(std::string_view("\0\0", 2)));
  EXPECT_NE(hashKey(""), hashKey(std::string_view("\0", 1)));
}

// Short keys, where the tail is most of the key: every 1- and 2-byte string and every decimal
// number up to 10^5 hashes apart (the length must not cancel against the first byte).
TEST(HashKey, ShortKeysOfDifferentLengthsDoNotCollide) {
  std::set<std::uint64_t> seen;
  std::size_t keys = 0;
  for (int a = 0; a < 256; ++a) {
    const char one[1] = {static_cast<char>(a)};
    seen.insert(hashKey(std::string_view(one, 1)));
    ++keys;
    for (int b = 0; b < 256; ++b) {
      const char two[2] = {static_cast<char>(a), static_cast<char>(b)};
      seen.insert(hashKey(std::string_view(two, 2)));
      ++keys;
    }
  }
  for (int i = 0; i < 100'000; ++i) {
    seen.insert(hashKey(std::to_string(i)));
    ++keys;
  }
  // The decimal numbers of one and two digits are among the 1- and 2-byte strings.
  EXPECT_EQ(seen.size(), keys - 100);
}

// The stage is picked by the high bits: sequential keys must spread evenly over the stages.
TEST(HashKey, HighBitsSpreadKeysOverStages) {
  const std::vector<std::string> keys = sequentialKeys(100'000);
  for (std::uint32_t stages : {2u, 3u, 7u, 16u}) {
    std::vector<int> counts(stages, 0);
    for (const std::string& k : keys) ++counts[stageOf(hashKey(k), stages)];
    // 99.9th percentile of chi-square with up to 15 degrees of freedom is < 38.
    EXPECT_LT(chiSquare(counts, static_cast<int>(keys.size())), 38.0) << stages << " stages";
  }
}

// A stage's tables index by the low bits, among keys that share a stage.
TEST(HashKey, LowBitsSpreadWithinOneStage) {
  std::vector<int> buckets(256, 0);
  int total = 0;
  for (const std::string& k : sequentialKeys(200'000)) {
    const std::uint64_t h = hashKey(k);
    if (stageOf(h, 2) != 0) continue;
    ++buckets[h & 255];
    ++total;
  }
  // 255 degrees of freedom: the 99.9th percentile is about 330.
  EXPECT_LT(chiSquare(buckets, total), 330.0);
}

TEST(HashKey, OneFlippedBitChangesAboutHalfTheOutput) {
  std::mt19937_64 rng(42);
  double flipped = 0;
  int trials = 0;
  for (std::size_t size : {1u, 5u, 8u, 13u, 24u, 40u}) {
    for (int t = 0; t < 200; ++t) {
      std::string key(size, '\0');
      for (char& c : key) c = static_cast<char>(rng());
      const std::uint64_t before = hashKey(key);
      const std::size_t bit = rng() % (size * 8);
      key[bit / 8] = static_cast<char>(key[bit / 8] ^ (1 << (bit % 8)));
      flipped += std::popcount(before ^ hashKey(key));
      ++trials;
    }
  }
  const double mean = flipped / trials;
  EXPECT_GT(mean, 30.0);
  EXPECT_LT(mean, 34.0);
}

std::string encoded(const std::string& part, KeyPartType type = KeyPartType::kString) {
  std::string key;
  appendKeyPart(key, type, part);
  return key;
}

// The router hashes keys part by part as it encodes them; that must equal hashing the encoding.
TEST(KeyHasher, PartByPartEqualsTheEncodedKey) {
  KeyHasher two_parts;
  two_parts.add(static_cast<char>(KeyPartType::kString), "AAPL");
  two_parts.add(static_cast<char>(KeyPartType::kNumber), "12.5");
  EXPECT_EQ(two_parts.finish(),
            hashEncodedKey(encoded("AAPL") + encoded("12.5", KeyPartType::kNumber)));
  // The part boundaries and types are part of the hash.
  EXPECT_NE(hashEncodedKey(encoded("ab") + encoded("c")),
            hashEncodedKey(encoded("a") + encoded("bc")));
  EXPECT_NE(hashEncodedKey(encoded("3")), hashEncodedKey(encoded("3", KeyPartType::kNumber)));
  EXPECT_NE(hashEncodedKey(""), hashEncodedKey(encoded("")));
}

TEST(KeyHasher, EncodedKeysSpreadOverStagesAndSlots) {
  std::vector<int> stages(7, 0);
  std::vector<int> slots(256, 0);
  std::set<std::uint64_t> seen;
  const int n = 100'000;
  for (const std::string& k : sequentialKeys(n)) {
    const std::uint64_t h = hashEncodedKey(encoded(k));
    seen.insert(h);
    ++stages[stageOf(h, 7)];
    ++slots[h & 255];
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(n));
  EXPECT_LT(chiSquare(stages, n), 38.0);
  EXPECT_LT(chiSquare(slots, n), 330.0);
}

}  // namespace
}  // namespace rivulet::pipeline

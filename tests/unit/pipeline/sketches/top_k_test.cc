// TopK: exact counts below capacity, weights, ties, eviction, the Space-Saving guarantees on
// a stream and after merges, refused input, clear and reuse, bounded memory.
#include "pipeline/sketches/top_k.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <new>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "tests/unit/pipeline/allocation_counter.h"

namespace rivulet::pipeline {
namespace {

std::string name(std::string_view prefix, std::int64_t i) {
  std::string out(prefix);
  out += std::to_string(i);
  return out;
}

using Truth = std::map<std::string, std::uint64_t, std::less<>>;

// The documented guarantee of `summary` against the exact weights of everything added.
void expectGuarantee(const TopK& summary, const Truth& truth) {
  std::uint64_t n = 0;
  for (const auto& [item, weight] : truth) n += weight;
  ASSERT_EQ(summary.total(), n);
  const std::uint64_t bound = summary.errorBound();
  EXPECT_LE(bound * summary.capacity(), n);  // errorBound() <= N / m
  std::map<std::string, TopK::Entry, std::less<>> monitored;
  for (const TopK::Entry& e : summary.top(summary.capacity())) {
    monitored.emplace(std::string(e.item), e);
  }
  EXPECT_EQ(monitored.size(), summary.size());
  for (const auto& [item, weight] : truth) {
    const auto it = monitored.find(item);
    if (it == monitored.end()) {
      EXPECT_LE(weight, bound) << item;
      continue;
    }
    const TopK::Entry& e = it->second;
    EXPECT_LE(weight, e.count) << item;
    EXPECT_LE(e.count - e.error, weight) << item;
    EXPECT_LE(e.error, bound) << item;
  }
  // Monitored items never seen would be a bug.
  for (const auto& [item, e] : monitored) EXPECT_TRUE(truth.contains(item)) << item;
}

TEST(TopKTest, EmptySummary) {
  TopK summary(64);
  EXPECT_TRUE(summary.top(10).empty());
  EXPECT_EQ(summary.total(), 0u);
  EXPECT_EQ(summary.size(), 0u);
  EXPECT_EQ(summary.errorBound(), 0u);
  EXPECT_EQ(summary.memoryBytes(), sizeof(TopK));
}

TEST(TopKTest, CapacityFor) {
  EXPECT_EQ(TopK::capacityFor(1), 64u);
  EXPECT_EQ(TopK::capacityFor(10), 100u);
  EXPECT_EQ(TopK::capacityFor(100), 1000u);
  EXPECT_THROW(TopK(0), std::invalid_argument);
  EXPECT_THROW(TopK(TopK::kMaxCapacity + 1), std::invalid_argument);
}

TEST(TopKTest, SingleItem) {
  TopK summary(64);
  EXPECT_TRUE(summary.add("NYSE"));
  const auto top = summary.top(5);
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0].item, "NYSE");
  EXPECT_EQ(top[0].count, 1u);
  EXPECT_EQ(top[0].error, 0u);
  EXPECT_LE(summary.memoryBytes(), 512u);
}

TEST(TopKTest, WeightsTiesAndOrder) {
  TopK summary(64);
  summary.add("a", 5);
  summary.add("b", 3);
  summary.add("a", 2);
  summary.add("d", 3);
  summary.add("c", 3);
  summary.add("e", 0);  // counts nothing
  const auto top = summary.top(10);
  ASSERT_EQ(top.size(), 4u);
  EXPECT_EQ(top[0].item, "a");
  EXPECT_EQ(top[0].count, 7u);
  // Equal counts by item bytes.
  EXPECT_EQ(top[1].item, "b");
  EXPECT_EQ(top[2].item, "c");
  EXPECT_EQ(top[3].item, "d");
  EXPECT_EQ(summary.total(), 16u);
  EXPECT_EQ(summary.top(2).size(), 2u);
  EXPECT_TRUE(summary.top(0).empty());
}

TEST(TopKTest, EmptyAndBinaryItems) {
  TopK summary(64);
  EXPECT_TRUE(summary.add(""));
  EXPECT_TRUE(summary.add(""));
  const std::string binary("a\0b", 3);
  EXPECT_TRUE(summary.add(binary));
  EXPECT_TRUE(summary.add(std::string_view("a")));
  const auto top = summary.top(3);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].item, "");
  EXPECT_EQ(top[0].count, 2u);
  EXPECT_EQ(top[1].item, "a");
  EXPECT_EQ(top[2].item, binary);
}

TEST(TopKTest, RefusesItemsOverTheLimit) {
  TopK summary(64);
  const std::string huge(TopK::kMaxItemBytes + 1, 'x');
  EXPECT_FALSE(summary.add(huge));
  EXPECT_EQ(summary.total(), 0u);
  EXPECT_TRUE(summary.add(std::string(TopK::kMaxItemBytes, 'x')));
  EXPECT_EQ(summary.total(), 1u);
}

TEST(TopKTest, ExactBelowCapacity) {
  TopK summary(100);
  Truth truth;
  for (int i = 0; i < 1000; ++i) {
    const std::string item = name("item-", i % 100);
    summary.add(item, i % 7 + 1);
    truth[item] += i % 7 + 1;
  }
  EXPECT_EQ(summary.size(), 100u);
  // Full, so the bound is the smallest count, here exact.
  std::uint64_t smallest = ~std::uint64_t{0};
  for (const auto& [item, weight] : truth) smallest = std::min(smallest, weight);
  EXPECT_EQ(summary.errorBound(), smallest);
  for (const TopK::Entry& e : summary.top(100)) {
    EXPECT_EQ(e.count, truth[std::string(e.item)]);
    EXPECT_EQ(e.error, 0u);
  }
}

TEST(TopKTest, ReplacesTheSmallestCount) {
  TopK summary(2);
  summary.add("a", 5);
  summary.add("b", 2);
  summary.add("c");  // replaces b (2): count 3, error 2
  auto top = summary.top(2);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].item, "a");
  EXPECT_EQ(top[1].item, "c");
  EXPECT_EQ(top[1].count, 3u);
  EXPECT_EQ(top[1].error, 2u);
  EXPECT_EQ(summary.errorBound(), 3u);
  summary.add("b", 4);  // replaces c (3): count 7, error 3
  top = summary.top(2);
  EXPECT_EQ(top[0].item, "b");
  EXPECT_EQ(top[0].count, 7u);
  EXPECT_EQ(top[0].error, 3u);
  EXPECT_EQ(top[1].item, "a");
}

// A skewed random stream of `n` items over `distinct` names, with random weights; the rank of
// an item is geometric with parameter `p`: the smaller p, the flatter the stream.
std::vector<std::pair<std::string, std::uint64_t>> skewedStream(int n, int distinct,
                                                                std::uint64_t seed,
                                                                double p = 0.02) {
  std::mt19937_64 rng(seed);
  std::geometric_distribution<int> rank(p);
  std::uniform_int_distribution<std::uint64_t> weight(1, 5);
  std::vector<std::pair<std::string, std::uint64_t>> stream;
  for (int i = 0; i < n; ++i) {
    stream.emplace_back(name("sym-", rank(rng) % distinct), weight(rng));
  }
  return stream;
}

TEST(TopKTest, GuaranteeOnAStream) {
  TopK summary(64);
  Truth truth;
  for (const auto& [item, weight] : skewedStream(100000, 3000, 1)) {
    summary.add(item, weight);
    truth[item] += weight;
  }
  EXPECT_EQ(summary.size(), 64u);
  EXPECT_GT(summary.errorBound(), 0u);
  expectGuarantee(summary, truth);
}

TEST(TopKTest, MergeKeepsTheGuarantee) {
  // Skewed and flat streams: in the flat one the slices monitor different items, so the merge
  // must charge an item missing from one slice with that slice's smallest count.
  for (const double p : {0.02, 0.002}) {
    constexpr int kSlices = 8;
    std::vector<TopK> slices(kSlices, TopK(64));
    Truth truth;
    std::mt19937_64 rng(3);
    std::uniform_int_distribution<int> pick(0, kSlices - 1);
    for (const auto& [item, weight] : skewedStream(100000, 3000, 2, p)) {
      slices[pick(rng)].add(item, weight);
      truth[item] += weight;
    }
    TopK merged(64);
    for (const TopK& slice : slices) merged.merge(slice);
    SCOPED_TRACE(p);
    expectGuarantee(merged, truth);
    // A merged summary goes on counting with the same guarantee.
    for (const auto& [item, weight] : skewedStream(20000, 3000, 4, p)) {
      merged.add(item, weight);
      truth[item] += weight;
    }
    expectGuarantee(merged, truth);
  }
}

TEST(TopKTest, MergeChargesAnItemMissingFromTheOtherSummary) {
  // "a" weighs 100 in `a` (not full: its smallest count is 0) and 1 in `b`, where it was
  // replaced: `b` does not monitor it, so the merge must add b's smallest count, 10.
  TopK a(3);
  a.add("a", 100);
  TopK b(3);
  b.add("a", 1);
  b.add("c", 10);
  b.add("d", 10);
  b.add("e", 10);  // replaces "a" (1): count 11, error 1
  ASSERT_EQ(b.errorBound(), 10u);
  a.merge(b);
  const auto top = a.top(3);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].item, "a");
  EXPECT_EQ(top[0].count, 110u);  // >= its true 101
  EXPECT_EQ(top[0].error, 10u);
  EXPECT_EQ(top[1].item, "e");
  EXPECT_EQ(top[1].count, 11u);
  EXPECT_EQ(top[2].item, "c");  // "c" and "d" tie at 10; bytes decide
  Truth truth = {{"a", 101}, {"c", 10}, {"d", 10}, {"e", 10}};
  expectGuarantee(a, truth);
}

TEST(TopKTest, MergeOfPartlyFilledSummaries) {
  TopK a(64);
  TopK b(64);
  Truth truth;
  for (int i = 0; i < 40; ++i) {
    a.add(name("x", i), i + 1);
    truth[name("x", i)] += i + 1;
    b.add(name("x", i + 20), 2);
    truth[name("x", i + 20)] += 2;
  }
  a.merge(b);  // 60 distinct: still exact
  EXPECT_EQ(a.size(), 60u);
  EXPECT_EQ(a.errorBound(), 0u);
  for (const TopK::Entry& e : a.top(64)) {
    EXPECT_EQ(e.count, truth[std::string(e.item)]);
    EXPECT_EQ(e.error, 0u);
  }
}

TEST(TopKTest, MergeIsCommutative) {
  TopK a(64);
  TopK b(64);
  for (const auto& [item, weight] : skewedStream(5000, 500, 5)) a.add(item, weight);
  for (const auto& [item, weight] : skewedStream(5000, 500, 6)) b.add(item, weight);
  TopK ab = a;
  ab.merge(b);
  TopK ba = b;
  ba.merge(a);
  const auto x = ab.top(64);
  const auto y = ba.top(64);
  ASSERT_EQ(x.size(), y.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(x[i].item, y[i].item);
    EXPECT_EQ(x[i].count, y[i].count);
    EXPECT_EQ(x[i].error, y[i].error);
  }
}

TEST(TopKTest, MergeWithEmptyAndWithItself) {
  TopK a(64);
  a.add("x", 3);
  a.add("y", 1);
  a.merge(TopK(64));
  EXPECT_EQ(a.total(), 4u);
  a.merge(a);
  EXPECT_EQ(a.total(), 8u);
  const auto top = a.top(2);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].count, 6u);
  EXPECT_EQ(top[1].count, 2u);
  TopK empty(64);
  empty.merge(a);
  EXPECT_EQ(empty.top(1)[0].item, "x");
  EXPECT_EQ(empty.total(), 8u);
}

TEST(TopKTest, ClearKeepsCapacityAndReuses) {
  TopK summary(64);
  const auto stream = skewedStream(20000, 1000, 7);
  for (const auto& [item, weight] : stream) summary.add(item, weight);
  const auto before = summary.top(10);
  std::vector<std::pair<std::string, std::uint64_t>> expected;
  for (const TopK::Entry& e : before) expected.emplace_back(std::string(e.item), e.count);
  const std::size_t bytes = summary.memoryBytes();
  summary.clear();
  EXPECT_EQ(summary.total(), 0u);
  EXPECT_TRUE(summary.top(10).empty());
  EXPECT_EQ(summary.memoryBytes(), bytes);
  for (const auto& [item, weight] : stream) summary.add(item, weight);
  EXPECT_EQ(summary.memoryBytes(), bytes);
  const auto after = summary.top(10);
  ASSERT_EQ(after.size(), expected.size());
  for (std::size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].item, expected[i].first);
    EXPECT_EQ(after[i].count, expected[i].second);
  }
}

TEST(TopKTest, MemoryStopsGrowingOnceWarm) {
  // Items of one length: once the buffers have grown, evictions reuse them.
  TopK summary(64);
  std::mt19937_64 rng(8);
  auto item = [&rng] {
    std::string s = name("id-", static_cast<std::int64_t>(rng() % 1000000));
    s.resize(16, '.');
    return s;
  };
  for (int i = 0; i < 10000; ++i) summary.add(item());
  const std::size_t bytes = summary.memoryBytes();
  for (int i = 0; i < 100000; ++i) summary.add(item());
  EXPECT_EQ(summary.memoryBytes(), bytes);
  // Counters, heap, compaction order, index (128 slots) and at most 4x the 64 * 16 item bytes.
  EXPECT_LE(bytes, sizeof(TopK) + 64 * (40 + 4 + 4) + 128 * 4 + 4 * 64 * 16);
}

TEST(TopKTest, MemoryBoundedWithItemsOfAnyLength) {
  TopK summary(64);
  std::mt19937_64 rng(9);
  std::uniform_int_distribution<int> length(0, 200);
  for (int i = 0; i < 100000; ++i) {
    std::string s = name("v", static_cast<std::int64_t>(rng()));
    s.resize(length(rng), '#');
    summary.add(s);
  }
  EXPECT_EQ(summary.size(), 64u);
  EXPECT_LE(summary.memoryBytes(), sizeof(TopK) + 64 * (40 + 4 + 4) + 128 * 4 + 4 * 64 * 200);
}

TEST(TopKTest, WarmSummaryAllocatesNothing) {
  // Items of one length, made before counting: the loops themselves allocate nothing.
  std::vector<std::string> items;
  std::mt19937_64 rng(10);
  for (int i = 0; i < 50000; ++i) {
    std::string s = name("id-", static_cast<std::int64_t>(rng() % 5000));
    s.resize(12, '.');
    items.push_back(std::move(s));
  }
  TopK summary(64);
  for (const std::string& item : items) summary.add(item);  // grows every buffer
  const std::size_t before = testutil::allocations.load();
  for (const std::string& item : items) summary.add(item, 2);
  summary.clear();
  for (const std::string& item : items) summary.add(item);
  const std::size_t allocated = testutil::allocations.load() - before;
  EXPECT_EQ(allocated, 0u);
  EXPECT_EQ(summary.total(), items.size());
}

}  // namespace
}  // namespace rivulet::pipeline

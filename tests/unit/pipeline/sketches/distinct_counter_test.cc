// DistinctCounter: exact mode and the switch to registers, register arithmetic, merges of every
// pair of modes equal to one counter, clear and reuse, bounded memory.
#include "pipeline/sketches/distinct_counter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <vector>

#include "tests/unit/pipeline/allocation_counter.h"

namespace rivulet::pipeline {
namespace {

// splitmix64's finaliser: distinct inputs give distinct, well-mixed hashes.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

void addRange(DistinctCounter& counter, std::uint64_t from, std::uint64_t to) {
  for (std::uint64_t i = from; i < to; ++i) counter.add(mix(i));
}

bool sameRegisters(const DistinctCounter& a, const DistinctCounter& b) {
  return std::ranges::equal(a.registers(), b.registers());
}

TEST(DistinctCounterTest, EmptyCounterIsZeroAndOwnsNoBuffer) {
  DistinctCounter counter;
  EXPECT_EQ(counter.estimate(), 0u);
  EXPECT_TRUE(counter.exact());
  EXPECT_TRUE(counter.registers().empty());
  EXPECT_EQ(counter.memoryBytes(), sizeof(DistinctCounter));
}

TEST(DistinctCounterTest, SingleValueAndDuplicates) {
  DistinctCounter counter;
  for (int i = 0; i < 1000; ++i) counter.add(mix(42));
  EXPECT_EQ(counter.estimate(), 1u);
  EXPECT_TRUE(counter.exact());
  EXPECT_LE(counter.memoryBytes(), sizeof(DistinctCounter) + 4 * sizeof(std::uint64_t));
}

TEST(DistinctCounterTest, ExactUpToTheLimitThenRegisters) {
  DistinctCounter counter;
  for (std::uint64_t n = 1; n <= DistinctCounter::kExactLimit; ++n) {
    counter.add(mix(n));
    counter.add(mix(n));  // duplicates change nothing
    ASSERT_TRUE(counter.exact());
    ASSERT_EQ(counter.estimate(), n);
  }
  // Hashes 0 and ~0 are values like any other.
  DistinctCounter edges;
  edges.add(0);
  edges.add(~std::uint64_t{0});
  edges.add(0);
  EXPECT_EQ(edges.estimate(), 2u);

  counter.add(mix(DistinctCounter::kExactLimit + 1));
  EXPECT_FALSE(counter.exact());
  EXPECT_EQ(counter.registers().size(), DistinctCounter::kRegisters);
  // From here on the count is an estimate: registers shared by two hashes count once.
  EXPECT_NEAR(static_cast<double>(counter.estimate()), 65,
              65 * 4 * DistinctCounter::kStandardError);
}

TEST(DistinctCounterTest, RegisterIndexAndRank) {
  DistinctCounter counter;
  // Hashes for registers 1..65, each of rank 1 (the bit right below the index is set).
  for (std::uint64_t i = 1; i <= 65; ++i) counter.add(i << 52 | std::uint64_t{1} << 51);
  ASSERT_FALSE(counter.exact());
  for (std::size_t i = 1; i <= 65; ++i) EXPECT_EQ(counter.registers()[i], 1) << i;
  EXPECT_EQ(counter.registers()[0], 0);
  // Register 0, lowest bit set: 51 leading zeros in the 52 bits below the index, rank 52.
  counter.add(1);
  EXPECT_EQ(counter.registers()[0], 52);
  // All 52 bits zero: the largest rank, 53.
  counter.add(0);
  EXPECT_EQ(counter.registers()[0], 53);
  // A register keeps its maximum.
  counter.add(std::uint64_t{1} << 51);
  EXPECT_EQ(counter.registers()[0], 53);
  // The top 12 bits are the index.
  counter.add(~std::uint64_t{0});
  EXPECT_EQ(counter.registers()[DistinctCounter::kRegisters - 1], 1);
}

TEST(DistinctCounterTest, MergeOfTwoExactCountersStaysExact) {
  DistinctCounter a;
  DistinctCounter b;
  addRange(a, 0, 30);
  addRange(b, 20, 50);  // 10 shared
  a.merge(b);
  EXPECT_TRUE(a.exact());
  EXPECT_EQ(a.estimate(), 50u);
}

TEST(DistinctCounterTest, MergeOfTwoExactCountersOverflowing) {
  DistinctCounter a;
  DistinctCounter b;
  DistinctCounter whole;
  addRange(a, 0, 50);
  addRange(b, 30, 90);
  addRange(whole, 0, 90);
  ASSERT_TRUE(a.exact());
  ASSERT_TRUE(b.exact());
  a.merge(b);
  EXPECT_FALSE(a.exact());
  EXPECT_TRUE(sameRegisters(a, whole));
  EXPECT_EQ(a.estimate(), whole.estimate());
}

TEST(DistinctCounterTest, MergeOfEveryPairOfModesEqualsOneCounter) {
  struct Range {
    std::uint64_t from, to;
  };
  // Exact (10), exact (40), register (5000) inputs, overlapping.
  const Range ranges[] = {{0, 10}, {5, 45}, {30, 5030}};
  for (const Range& x : ranges) {
    for (const Range& y : ranges) {
      DistinctCounter a;
      DistinctCounter b;
      DistinctCounter whole;
      addRange(a, x.from, x.to);
      addRange(b, y.from, y.to);
      addRange(whole, x.from, x.to);
      addRange(whole, y.from, y.to);
      a.merge(b);
      EXPECT_EQ(a.exact(), whole.exact()) << x.from << " " << y.from;
      EXPECT_TRUE(sameRegisters(a, whole)) << x.from << " " << y.from;
      EXPECT_EQ(a.estimate(), whole.estimate()) << x.from << " " << y.from;
    }
  }
}

TEST(DistinctCounterTest, MergeWithEmptyAndWithItself) {
  DistinctCounter a;
  addRange(a, 0, 1000);
  const std::uint64_t estimate = a.estimate();
  a.merge(DistinctCounter());
  EXPECT_EQ(a.estimate(), estimate);
  a.merge(a);
  EXPECT_EQ(a.estimate(), estimate);
  DistinctCounter empty;
  empty.merge(a);
  EXPECT_TRUE(sameRegisters(empty, a));
}

TEST(DistinctCounterTest, ClearKeepsCapacityAndReuses) {
  DistinctCounter counter;
  addRange(counter, 0, 10000);
  const std::size_t bytes = counter.memoryBytes();
  const std::uint64_t estimate = counter.estimate();
  counter.clear();
  EXPECT_TRUE(counter.exact());
  EXPECT_EQ(counter.estimate(), 0u);
  EXPECT_EQ(counter.memoryBytes(), bytes);
  addRange(counter, 0, 10);
  EXPECT_EQ(counter.estimate(), 10u);  // exact again
  counter.clear();
  addRange(counter, 0, 10000);
  EXPECT_EQ(counter.memoryBytes(), bytes);  // no allocation on reuse
  EXPECT_EQ(counter.estimate(), estimate);  // the registers were reset
  DistinctCounter fresh;
  addRange(fresh, 0, 10000);
  EXPECT_TRUE(sameRegisters(counter, fresh));
}

TEST(DistinctCounterTest, MemoryStaysBounded) {
  DistinctCounter counter;
  addRange(counter, 0, DistinctCounter::kExactLimit);
  EXPECT_LE(counter.memoryBytes(),
            sizeof(DistinctCounter) + DistinctCounter::kExactLimit * sizeof(std::uint64_t));
  addRange(counter, 0, 200000);
  const std::size_t bytes = counter.memoryBytes();
  EXPECT_LE(bytes, sizeof(DistinctCounter) + DistinctCounter::kExactLimit * sizeof(std::uint64_t) +
                       DistinctCounter::kRegisters);
  addRange(counter, 200000, 400000);
  EXPECT_EQ(counter.memoryBytes(), bytes);
}

TEST(DistinctCounterTest, WarmCounterAllocatesNothing) {
  DistinctCounter counter;
  addRange(counter, 0, 10000);  // grows the exact array, then the registers
  counter.clear();
  const std::size_t before = testutil::allocations.load();
  addRange(counter, 0, 10000);  // exact mode, the switch and register mode again
  counter.clear();
  addRange(counter, 0, 30);
  const std::size_t allocated = testutil::allocations.load() - before;
  EXPECT_EQ(allocated, 0u);
  EXPECT_EQ(counter.estimate(), 30u);
}

}  // namespace
}  // namespace rivulet::pipeline

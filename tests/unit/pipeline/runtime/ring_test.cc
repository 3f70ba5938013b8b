// Single-thread semantics of SpscRing: visibility through publish(), capacity, all-or-none batches,
// wrap-around, and a seeded random walk checked against a std::deque reference model.
#include "pipeline/runtime/ring.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <random>
#include <vector>

namespace rivulet::pipeline {
namespace {

using Ring = SpscRing<std::uint32_t>;

// Consecutive values first, first + 1, ... so a slot read from the wrong place shows up.
std::vector<std::uint32_t> iota(std::uint32_t first, std::size_t n) {
  std::vector<std::uint32_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = first + static_cast<std::uint32_t>(i);
  return v;
}

// Everything the consumer can currently read, in order, without consuming it.
std::vector<std::uint32_t> peekAll(Ring& ring) {
  std::vector<std::uint32_t> v;
  const std::size_t n = ring.available();
  for (std::size_t i = 0; i < n; ++i) v.push_back(ring.at(i));
  return v;
}

TEST(SpscRing, CapacityIsTheConstructorArgument) {
  EXPECT_EQ(Ring(2).capacity(), 2u);
  EXPECT_EQ(Ring(1024).capacity(), 1024u);
}

TEST(SpscRing, EmptyRingHasNothingAvailable) {
  Ring ring(8);
  EXPECT_EQ(ring.available(), 0u);
  EXPECT_EQ(ring.staged(), 0u);
  EXPECT_EQ(ring.sizeGuess(), 0u);
}

TEST(SpscRing, StagedSlotsAreInvisibleUntilPublish) {
  Ring ring(8);
  const auto items = iota(10, 3);
  ASSERT_TRUE(ring.tryPush(items.data(), items.size()));
  EXPECT_EQ(ring.staged(), 3u);
  EXPECT_EQ(ring.available(), 0u);
  EXPECT_EQ(ring.sizeGuess(), 0u);

  ring.publish();
  EXPECT_EQ(ring.staged(), 0u);
  EXPECT_EQ(ring.available(), 3u);
  EXPECT_EQ(ring.sizeGuess(), 3u);
  EXPECT_EQ(peekAll(ring), items);
}

TEST(SpscRing, PublishWithNothingStagedChangesNothing) {
  Ring ring(8);
  ring.publish();
  EXPECT_EQ(ring.available(), 0u);
  ASSERT_TRUE(ring.tryPush(7u));
  ring.publish();
  ring.publish();
  EXPECT_EQ(ring.available(), 1u);
  EXPECT_EQ(ring.sizeGuess(), 1u);
}

TEST(SpscRing, StagedCountsSlotsPushedSinceTheLastPublish) {
  Ring ring(16);
  ASSERT_TRUE(ring.tryPush(1u));
  ASSERT_TRUE(ring.tryPush(2u));
  EXPECT_EQ(ring.staged(), 2u);
  ring.publish();
  EXPECT_EQ(ring.staged(), 0u);
  const auto more = iota(3, 5);
  ASSERT_TRUE(ring.tryPush(more.data(), more.size()));
  EXPECT_EQ(ring.staged(), 5u);
  ring.consume(ring.available());  // consuming does not touch the producer's staging
  EXPECT_EQ(ring.staged(), 5u);
}

TEST(SpscRing, ZeroLengthPushSucceedsAndStagesNothing) {
  Ring ring(4);
  const std::uint32_t unused = 0;
  EXPECT_TRUE(ring.tryPush(&unused, 0));
  EXPECT_EQ(ring.staged(), 0u);
  ring.publish();
  EXPECT_EQ(ring.available(), 0u);
}

// Pushing an empty std::vector or span passes data() == nullptr with n == 0. tryPush() hands that
// pointer to memcpy, whose arguments must be non-null even for size 0: undefined behaviour, which
// UBSan reports ("null pointer passed as argument 2"). Disabled until ring.h returns early for
// n == 0; passes in plain builds, fails under the asan preset.
TEST(SpscRing, EmptyVectorPushIsANoOp) {
  Ring ring(4);
  const std::vector<std::uint32_t> none;
  EXPECT_TRUE(ring.tryPush(none.data(), none.size()));
  EXPECT_EQ(ring.staged(), 0u);
}

// No slot is sacrificed to tell full from empty: the 64-bit counters make full mean
// write - read == capacity.
TEST(SpscRing, HoldsExactlyCapacitySlots) {
  for (const std::size_t capacity : {2u, 4u, 64u}) {
    SCOPED_TRACE(capacity);
    Ring ring(capacity);
    for (std::uint32_t i = 0; i < capacity; ++i) ASSERT_TRUE(ring.tryPush(i)) << i;
    EXPECT_FALSE(ring.tryPush(99u));  // full while merely staged
    ring.publish();
    EXPECT_FALSE(ring.tryPush(99u));  // and still full once published
    EXPECT_EQ(ring.available(), capacity);
    EXPECT_EQ(ring.sizeGuess(), capacity);
    EXPECT_EQ(peekAll(ring), iota(0, capacity));
  }
}

TEST(SpscRing, WholeCapacityFitsInOneBatch) {
  Ring ring(8);
  const auto items = iota(0, 8);
  ASSERT_TRUE(ring.tryPush(items.data(), items.size()));
  ring.publish();
  EXPECT_EQ(peekAll(ring), items);
}

TEST(SpscRing, BatchLargerThanCapacityIsRejectedEvenWhenEmpty) {
  Ring ring(8);
  const auto items = iota(0, 9);
  EXPECT_FALSE(ring.tryPush(items.data(), items.size()));
  EXPECT_EQ(ring.staged(), 0u);
  ring.publish();
  EXPECT_EQ(ring.available(), 0u);
}

TEST(SpscRing, BatchThatDoesNotFitStagesNothing) {
  Ring ring(8);
  const auto first = iota(0, 5);
  ASSERT_TRUE(ring.tryPush(first.data(), first.size()));
  const auto too_many = iota(100, 4);
  EXPECT_FALSE(ring.tryPush(too_many.data(), too_many.size()));
  EXPECT_EQ(ring.staged(), 5u);
  ring.publish();
  EXPECT_EQ(peekAll(ring), first);

  // Exactly the remaining room still fits.
  const auto rest = iota(5, 3);
  ASSERT_TRUE(ring.tryPush(rest.data(), rest.size()));
  ring.publish();
  ring.consume(5);
  EXPECT_EQ(peekAll(ring), rest);
}

TEST(SpscRing, ConsumeFreesRoom) {
  Ring ring(4);
  const auto items = iota(0, 4);
  ASSERT_TRUE(ring.tryPush(items.data(), items.size()));
  ring.publish();
  ASSERT_FALSE(ring.tryPush(4u));

  ASSERT_EQ(ring.available(), 4u);
  ring.consume(1);
  EXPECT_EQ(ring.sizeGuess(), 3u);
  EXPECT_TRUE(ring.tryPush(4u));
  EXPECT_FALSE(ring.tryPush(5u));

  ring.consume(3);
  const auto batch = iota(5, 3);
  EXPECT_TRUE(ring.tryPush(batch.data(), batch.size()));
  ring.publish();
  EXPECT_EQ(peekAll(ring), iota(4, 4));
}

TEST(SpscRing, UnpublishedSlotsStillTakeRoom) {
  Ring ring(4);
  const auto items = iota(0, 3);
  ASSERT_TRUE(ring.tryPush(items.data(), items.size()));
  const auto two = iota(3, 2);
  EXPECT_FALSE(ring.tryPush(two.data(), two.size()));
  EXPECT_TRUE(ring.tryPush(3u));
}

TEST(SpscRing, SizeGuessCountsPublishedUnconsumedSlots) {
  Ring ring(16);
  const auto items = iota(0, 6);
  ASSERT_TRUE(ring.tryPush(items.data(), items.size()));
  EXPECT_EQ(ring.sizeGuess(), 0u);  // staged is not in the ring yet
  ring.publish();
  EXPECT_EQ(ring.sizeGuess(), 6u);
  ASSERT_EQ(ring.available(), 6u);  // consume(n) requires n <= available()
  ring.consume(2);
  EXPECT_EQ(ring.sizeGuess(), 4u);
  ring.consume(4);
  EXPECT_EQ(ring.sizeGuess(), 0u);
}

// available() may report less than what is published (it re-reads the producer's index only when
// its cached view is empty), but never 0 while something is published, so a consumer that drains
// what it sees eventually sees everything, in order.
TEST(SpscRing, ConsumerSeesEverySeparatelyPublishedBatchInOrder) {
  Ring ring(16);
  const auto a = iota(0, 2);
  const auto b = iota(2, 3);
  ASSERT_TRUE(ring.tryPush(a.data(), a.size()));
  ring.publish();
  ASSERT_GT(ring.available(), 0u);
  ASSERT_TRUE(ring.tryPush(b.data(), b.size()));
  ring.publish();

  std::vector<std::uint32_t> seen;
  while (const std::size_t n = ring.available()) {
    for (std::size_t i = 0; i < n; ++i) seen.push_back(ring.at(i));
    ring.consume(n);
  }
  EXPECT_EQ(seen, iota(0, 5));
}

// ---- wrap-around, for slot sizes that are and are not powers of two ----

template <std::size_t N>
struct Slot {
  unsigned char bytes[N];
};

template <std::size_t N>
Slot<N> makeSlot(std::uint64_t id) {
  Slot<N> s;
  for (std::size_t j = 0; j < N; ++j) s.bytes[j] = static_cast<unsigned char>(id * 31 + j);
  return s;
}

template <std::size_t N>
bool sameSlot(const Slot<N>& a, const Slot<N>& b) {
  return std::memcmp(a.bytes, b.bytes, N) == 0;
}

template <typename T>
class SpscRingWrapTest : public ::testing::Test {};

using SlotTypes = ::testing::Types<Slot<1>, Slot<3>, Slot<8>, Slot<64>>;
TYPED_TEST_SUITE(SpscRingWrapTest, SlotTypes);

template <typename S>
constexpr std::size_t slotSize() {
  return sizeof(S::bytes);
}

TYPED_TEST(SpscRingWrapTest, BatchStraddlingTheEndKeepsItsOrder) {
  constexpr std::size_t kN = slotSize<TypeParam>();
  SpscRing<TypeParam> ring(8);
  std::vector<TypeParam> head;
  for (std::uint64_t i = 0; i < 5; ++i) head.push_back(makeSlot<kN>(i));
  ASSERT_TRUE(ring.tryPush(head.data(), head.size()));
  ring.publish();
  ring.consume(ring.available());

  // Slots 5, 6, 7 then 0, 1, 2 of the array.
  std::vector<TypeParam> batch;
  for (std::uint64_t i = 100; i < 106; ++i) batch.push_back(makeSlot<kN>(i));
  ASSERT_TRUE(ring.tryPush(batch.data(), batch.size()));
  ring.publish();
  ASSERT_EQ(ring.available(), 6u);
  for (std::size_t i = 0; i < 6; ++i) EXPECT_TRUE(sameSlot(ring.at(i), batch[i])) << i;
}

// A full-capacity batch starting at every offset of the array: the split point visits every slot.
TYPED_TEST(SpscRingWrapTest, FullBatchAtEveryOffset) {
  constexpr std::size_t kN = slotSize<TypeParam>();
  constexpr std::size_t kCapacity = 8;
  SpscRing<TypeParam> ring(kCapacity);
  std::uint64_t id = 0;
  for (std::size_t offset = 0; offset < 2 * kCapacity; ++offset) {
    std::vector<TypeParam> batch;
    for (std::size_t i = 0; i < kCapacity; ++i) batch.push_back(makeSlot<kN>(id + i));
    ASSERT_TRUE(ring.tryPush(batch.data(), batch.size())) << offset;
    ring.publish();
    ASSERT_EQ(ring.available(), kCapacity);
    for (std::size_t i = 0; i < kCapacity; ++i) {
      ASSERT_TRUE(sameSlot(ring.at(i), batch[i])) << "offset " << offset << " slot " << i;
    }
    // Free everything, then move the start by one slot for the next round.
    ring.consume(kCapacity);
    id += kCapacity;
    ASSERT_TRUE(ring.tryPush(makeSlot<kN>(id)));
    ring.publish();
    ring.consume(ring.available());
    ++id;
  }
}

// Batches of 3 on a ring of 8 start at every offset in turn and straddle the end on many laps.
TYPED_TEST(SpscRingWrapTest, ManyLapsOfOddBatches) {
  constexpr std::size_t kN = slotSize<TypeParam>();
  SpscRing<TypeParam> ring(8);
  std::uint64_t next_in = 0;
  std::uint64_t next_out = 0;
  for (int lap = 0; lap < 200; ++lap) {
    TypeParam batch[3] = {makeSlot<kN>(next_in), makeSlot<kN>(next_in + 1),
                          makeSlot<kN>(next_in + 2)};
    ASSERT_TRUE(ring.tryPush(batch, 3)) << lap;
    next_in += 3;
    ring.publish();
    // Leave one slot behind each lap so reads straddle the end too.
    const std::size_t n = ring.available();
    const std::size_t take = n > 1 ? n - 1 : n;
    for (std::size_t i = 0; i < take; ++i) {
      ASSERT_TRUE(sameSlot(ring.at(i), makeSlot<kN>(next_out + i))) << "lap " << lap;
    }
    ring.consume(take);
    next_out += take;
  }
}

// ---- property: random interleavings against a reference model ----

// The model is the obvious one: what the producer staged and what the consumer may read, as two
// queues. Single-threaded, the ring must agree with it exactly: a push succeeds iff staged +
// published-unconsumed + n <= capacity, sizeGuess() is the published-unconsumed count, and
// available() is never more than that and never 0 while it is not.
// With `in_place`, a push is two runs of up to 4 slots written as the event router writes
// records: claim 4 slots for each (the second after the first), fill them with the run and then
// garbage, commit both; or, when either claim fails, tryPush both runs. The garbage must never
// reach the consumer, and a claim must never hand out slots the consumer has not freed.
void checkAgainstModel(std::size_t capacity, std::uint64_t seed, int steps, bool in_place = false) {
  SCOPED_TRACE(::testing::Message() << "capacity " << capacity << " seed " << seed);
  Ring ring(capacity);
  std::deque<std::uint32_t> staged;
  std::deque<std::uint32_t> published;
  std::mt19937_64 rng(seed);
  std::uint32_t next = 0;
  std::uint64_t consumed = 0;
  std::vector<std::uint32_t> buf;

  for (int step = 0; step < steps; ++step) {
    const int op = std::uniform_int_distribution<int>(0, 9)(rng);
    if (op < 4) {
      const std::size_t n1 = std::uniform_int_distribution<std::size_t>(0, 4)(rng);
      const std::size_t n = in_place
                                ? n1 + std::uniform_int_distribution<std::size_t>(0, 4)(rng)
                                : std::uniform_int_distribution<std::size_t>(0, capacity + 1)(rng);
      buf = iota(next, n);
      buf.reserve(1);  // a real pointer even for n == 0; see EmptyVectorPushIsANoOp
      const bool fits = staged.size() + published.size() + n <= capacity;
      bool pushed = false;
      std::uint32_t* first = in_place ? ring.claim(0, 4) : nullptr;
      std::uint32_t* second = first != nullptr ? ring.claim(n1, 4) : nullptr;
      if (second != nullptr) {
        std::fill_n(first, 4, 0xdeadbeef);
        std::copy_n(buf.begin(), n1, first);
        std::fill_n(second, 4, 0xdeadbeef);
        std::copy_n(buf.begin() + static_cast<std::ptrdiff_t>(n1), n - n1, second);
        ring.commit(n1);
        ring.commit(n - n1);
        pushed = true;
      } else {
        pushed = ring.tryPush(buf.data(), n);
      }
      ASSERT_EQ(pushed, fits) << "step " << step << " push " << n;
      if (fits) {
        staged.insert(staged.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
        next += static_cast<std::uint32_t>(n);
      }
    } else if (op < 6) {
      ring.publish();
      published.insert(published.end(), staged.begin(), staged.end());
      staged.clear();
    } else {
      const std::size_t avail = ring.available();
      ASSERT_LE(avail, published.size()) << "step " << step;
      if (!published.empty()) {
        ASSERT_GT(avail, 0u) << "step " << step;
      }
      for (std::size_t i = 0; i < avail; ++i) {
        ASSERT_EQ(ring.at(i), published[i]) << "step " << step << " slot " << i;
      }
      ASSERT_EQ(ring.contiguous(0), capacity - consumed % capacity) << "step " << step;
      const std::size_t take = std::uniform_int_distribution<std::size_t>(0, avail)(rng);
      ring.consume(take);
      consumed += take;
      published.erase(published.begin(), published.begin() + static_cast<std::ptrdiff_t>(take));
    }
    ASSERT_EQ(ring.staged(), staged.size()) << "step " << step;
    ASSERT_EQ(ring.sizeGuess(), published.size()) << "step " << step;
  }
}

TEST(SpscRingProperty, RandomInterleavingsMatchADequeModel) {
  for (const std::size_t capacity : {2u, 4u, 8u, 64u, 1024u}) {
    checkAgainstModel(capacity, 0x5eed0000 + capacity, 20'000);
    if (HasFatalFailure()) return;
  }
}

TEST(SpscRingProperty, InPlaceWritesMatchADequeModel) {
  for (const std::size_t capacity : {2u, 4u, 8u, 16u, 64u}) {
    checkAgainstModel(capacity, 0x5ad0000 + capacity, 20'000, true);
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace rivulet::pipeline

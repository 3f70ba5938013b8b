// Snapshots of the sketches (QuantileSketch, DistinctCounter, TopK): a restored sketch answers
// and goes on exactly as the original, snapshots are canonical, and corrupt input is refused
// with the sketch left empty. The operators' snapshots are in
// tests/property/snapshot_property_test.cc.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "pipeline/model/hash.h"
#include "pipeline/model/snapshot.h"
#include "pipeline/sketches/distinct_counter.h"
#include "pipeline/sketches/quantile_sketch.h"
#include "pipeline/sketches/top_k.h"

namespace rivulet::pipeline {
namespace {

template <typename Sketch>
std::string snapshotOf(const Sketch& sketch) {
  SnapshotWriter out;
  sketch.snapshot(out);
  return out.take();
}

template <typename Sketch>
bool restoreFrom(Sketch& sketch, std::string_view bytes) {
  SnapshotReader in(bytes);
  const bool restored = sketch.restore(in);
  EXPECT_EQ(restored, in.ok());
  if (restored) {
    EXPECT_TRUE(in.done()) << "restore() must read the whole snapshot";
  }
  return restored;
}

// Every proper prefix of `bytes` is refused, and leaves `sketch` as empty() says.
template <typename Sketch, typename Empty>
void expectTruncationsRefused(Sketch sketch, const std::string& bytes, Empty empty) {
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(restoreFrom(sketch, std::string_view(bytes).substr(0, n))) << n << " bytes";
    EXPECT_TRUE(empty(sketch)) << n << " bytes";
  }
}

std::uint64_t hashOf(std::uint64_t i) { return hashKey(std::to_string(i)); }

// ---- QuantileSketch ----

std::vector<double> quantileValues(std::size_t n, bool wide, std::mt19937_64& rng) {
  std::vector<double> values;
  std::uniform_real_distribution<double> uniform(-1e3, 1e3);
  std::uniform_int_distribution<int> exponent(-300, 300);
  for (std::size_t i = 0; i < n; ++i) {
    values.push_back(wide ? std::pow(10.0, exponent(rng)) * (i % 3 == 0 ? -1 : 1) : uniform(rng));
    if (i % 17 == 0) values.back() = 0;
  }
  return values;
}

TEST(SketchSnapshotTest, QuantileSketchRestoresEqualAndGoesOnAlike) {
  std::mt19937_64 rng(1);
  for (const bool wide : {false, true}) {
    QuantileSketch original;
    for (const double v : quantileValues(5000, wide, rng)) original.add(v);
    EXPECT_EQ(original.collapsedMagnitude() > 0, wide) << "wide values collapse buckets";
    const std::string bytes = snapshotOf(original);

    QuantileSketch restored;
    for (const double v : quantileValues(100, !wide, rng)) restored.add(v);  // replaced
    ASSERT_TRUE(restoreFrom(restored, bytes));
    EXPECT_TRUE(restored == original);
    EXPECT_EQ(restored.collapsedMagnitude(), original.collapsedMagnitude());
    for (const double q : {0.0, 0.01, 0.5, 0.9, 0.999, 1.0}) {
      EXPECT_EQ(restored.quantile(q), original.quantile(q)) << q;
    }
    EXPECT_EQ(snapshotOf(restored), bytes);

    const std::vector<double> more = quantileValues(3000, true, rng);
    for (const double v : more) {
      original.add(v);
      restored.add(v);
    }
    EXPECT_TRUE(restored == original);
    QuantileSketch merged_original, merged_restored;
    merged_original.merge(original);
    merged_restored.merge(restored);
    EXPECT_TRUE(merged_restored == merged_original);
  }
}

// Exact mode (at most 64 values) is snapshotted as its values: restored, it answers alike, and
// goes on alike into the buckets.
TEST(SketchSnapshotTest, QuantileSketchRestoresExactValues) {
  std::mt19937_64 rng(3);
  for (const std::size_t n :
       {std::size_t{1}, std::size_t{2}, std::size_t{17}, QuantileSketch::kExactLimit}) {
    QuantileSketch original;
    for (const double v : quantileValues(n, n % 2 == 0, rng)) original.add(v);
    ASSERT_TRUE(original.exact());
    const std::string bytes = snapshotOf(original);
    EXPECT_EQ(bytes.size(), 8 + 8 * n);  // the count, then the values

    QuantileSketch restored;
    for (const double v : quantileValues(300, false, rng)) restored.add(v);  // replaced
    ASSERT_TRUE(restoreFrom(restored, bytes));
    EXPECT_TRUE(restored.exact());
    EXPECT_TRUE(restored == original);
    EXPECT_EQ(restored.min(), original.min());
    EXPECT_EQ(restored.max(), original.max());
    for (const double q : {0.0, 0.05, 0.5, 0.95, 0.99, 1.0}) {
      EXPECT_EQ(restored.quantile(q), original.quantile(q)) << q;
    }
    EXPECT_EQ(snapshotOf(restored), bytes);
    for (const double v : quantileValues(100, true, rng)) {
      original.add(v);
      restored.add(v);
    }
    EXPECT_FALSE(restored.exact());
    EXPECT_TRUE(restored == original);

    auto empty = [](const QuantileSketch& s) { return s.count() == 0; };
    expectTruncationsRefused(QuantileSketch(), bytes, empty);
  }
}

TEST(SketchSnapshotTest, QuantileSketchRefusesCorruptExactValues) {
  auto u64 = [](std::uint64_t v) { return std::string(reinterpret_cast<const char*>(&v), 8); };
  auto f64 = [](double v) { return std::string(reinterpret_cast<const char*>(&v), 8); };
  QuantileSketch sketch;
  for (const std::string& bad : {
           u64(2) + f64(3) + f64(1),                               // not ascending
           u64(2) + f64(1) + f64(std::nan("")),                    // NaN
           u64(1) + f64(std::numeric_limits<double>::infinity()),  // infinity
           u64(3) + f64(1) + f64(2),                               // fewer than counted
       }) {
    EXPECT_FALSE(restoreFrom(sketch, bad));
    EXPECT_EQ(sketch.count(), 0u);
  }
  EXPECT_TRUE(restoreFrom(sketch, u64(3) + f64(-1) + f64(-1) + f64(2))) << "repeats are values";
  EXPECT_EQ(sketch.quantile(0.5), -1);
}

TEST(SketchSnapshotTest, QuantileSketchEncodingIsCompact) {
  QuantileSketch empty;
  EXPECT_EQ(snapshotOf(empty).size(), 8u);  // the count
  QuantileSketch small;
  for (int i = 1; i <= 100; ++i) small.add(i);  // buckets of small counts: one byte each
  const std::string bytes = snapshotOf(small);
  EXPECT_EQ(bytes.size(), 8 + 8 + 8 + 8 + 1 + 1 + 4 + 4 + small.bucketSpan());
}

TEST(SketchSnapshotTest, QuantileSketchRefusesCorruptInput) {
  QuantileSketch original;
  for (int i = -50; i <= 50; ++i) original.add(i * 1.5);
  const std::string bytes = snapshotOf(original);
  auto empty = [](const QuantileSketch& s) { return s.count() == 0; };
  expectTruncationsRefused(QuantileSketch(), bytes, empty);

  // Offsets: count 0, zero count 8, min 16, max 24, the negative store's flags 32.
  auto corrupt = [&](std::size_t at, auto value) {
    std::string out = bytes;
    std::memcpy(out.data() + at, &value, sizeof value);
    return out;
  };
  QuantileSketch sketch;
  for (const std::string& bad : {
           corrupt(0, original.count() + 1),           // counts that do not add up
           corrupt(8, original.count() + 1),           // more zeros than values
           corrupt(16, 1e9),                           // min above max
           corrupt(24, std::nan("")),                  // a NaN extreme
           corrupt(32, std::uint8_t{3}),               // 3 bytes per count
           corrupt(32, std::uint8_t{0x80}),            // an empty store that collapsed
           corrupt(33, std::int32_t{-2'000'000'000}),  // a bucket no double reaches
       }) {
    EXPECT_FALSE(restoreFrom(sketch, bad));
    EXPECT_TRUE(empty(sketch));
  }
  // A store wider than max_buckets (its lo moved down) is refused, not allocated.
  QuantileSketch narrow(QuantileSketch::kDefaultRelativeAccuracy, 16);
  EXPECT_FALSE(restoreFrom(narrow, bytes));
  EXPECT_TRUE(empty(narrow));
}

// ---- DistinctCounter ----

TEST(SketchSnapshotTest, DistinctCounterRestoresEachFormAndGoesOnAlike) {
  // Exact (10 hashes), sparse registers (100), dense registers (20,000), and their sizes.
  struct Form {
    std::uint64_t hashes;
    bool exact;
  };
  for (const Form form : {Form{10, true}, Form{100, false}, Form{20'000, false}}) {
    DistinctCounter original;
    for (std::uint64_t i = 0; i < form.hashes; ++i) original.add(hashOf(i));
    ASSERT_EQ(original.exact(), form.exact);
    const std::string bytes = snapshotOf(original);
    if (form.exact) {
      EXPECT_EQ(bytes.size(), 2 + 8 * form.hashes);
    } else if (form.hashes < 1000) {
      EXPECT_LT(bytes.size(), 3 + 3 * form.hashes) << "the sparse form";
    } else {
      EXPECT_EQ(bytes.size(), 1 + DistinctCounter::kRegisters) << "the dense form";
    }

    DistinctCounter restored;
    for (std::uint64_t i = 0; i < 5000; ++i) restored.add(hashOf(1'000'000 + i));  // replaced
    ASSERT_TRUE(restoreFrom(restored, bytes));
    EXPECT_EQ(restored.exact(), original.exact());
    EXPECT_EQ(restored.estimate(), original.estimate());
    EXPECT_TRUE(std::ranges::equal(restored.registers(), original.registers()));
    EXPECT_EQ(snapshotOf(restored), bytes);
    for (std::uint64_t i = 0; i < 200; ++i) {
      original.add(hashOf(500'000 + i));
      restored.add(hashOf(500'000 + i));
      ASSERT_EQ(restored.estimate(), original.estimate()) << i;
    }
    EXPECT_EQ(snapshotOf(restored), snapshotOf(original));

    auto empty = [](const DistinctCounter& c) { return c.exact() && c.estimate() == 0; };
    expectTruncationsRefused(DistinctCounter(), bytes, empty);
  }
}

// The register forms against a brute-force encoder, whichever is the shortest: sparse
// ([index:u16][rank:u8] for each set register, ascending) up to 254 registers set, the bitmap
// (a bit per register, then the ranks of those set) up to kRegisters - 513, dense above; random
// registers with counts of set ones around both boundaries and at the word edges.
TEST(SketchSnapshotTest, DistinctCounterRegisterFormsMatchTheirDefinition) {
  std::mt19937_64 random(::testing::UnitTest::GetInstance()->random_seed());
  constexpr std::size_t kRegisters = DistinctCounter::kRegisters;
  for (const std::size_t set :
       {std::size_t{1}, std::size_t{8}, std::size_t{9}, std::size_t{254}, std::size_t{255},
        std::size_t{1365}, std::size_t{2000}, kRegisters - 513, kRegisters - 512, kRegisters}) {
    std::vector<std::uint8_t> registers(kRegisters, 0);
    std::vector<std::size_t> order(kRegisters);
    for (std::size_t i = 0; i < kRegisters; ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), random);
    for (std::size_t i = 0; i < set; ++i) {
      registers[order[i]] = static_cast<std::uint8_t>(1 + random() % 53);
    }
    std::string dense(1, '\x02');
    dense.append(reinterpret_cast<const char*>(registers.data()), kRegisters);
    std::string want = dense;
    if (set <= kRegisters - 513) {
      want = std::string(1, '\x03');
      std::string bitmap(kRegisters / 8, '\0');
      std::string ranks;
      for (std::size_t i = 0; i < kRegisters; ++i) {
        if (registers[i] == 0) continue;
        bitmap[i / 8] = static_cast<char>(bitmap[i / 8] | 1 << (i % 8));
        ranks.push_back(static_cast<char>(registers[i]));
      }
      want += bitmap + ranks;
    }
    if (set <= 254) {
      want = std::string(1, '\x01');
      const auto count = static_cast<std::uint16_t>(set);
      want.append(reinterpret_cast<const char*>(&count), 2);
      for (std::size_t i = 0; i < kRegisters; ++i) {
        if (registers[i] == 0) continue;
        const auto index = static_cast<std::uint16_t>(i);
        want.append(reinterpret_cast<const char*>(&index), 2);
        want.push_back(static_cast<char>(registers[i]));
      }
    }
    DistinctCounter counter;
    ASSERT_TRUE(restoreFrom(counter, dense)) << set;
    EXPECT_EQ(snapshotOf(counter), want) << set << " registers set";
  }
}

TEST(SketchSnapshotTest, DistinctCounterRefusesCorruptInput) {
  DistinctCounter counter;
  auto refused = [&](std::string bytes) {
    const bool restored = restoreFrom(counter, bytes);
    return !restored && counter.exact() && counter.estimate() == 0;
  };
  auto u64 = [](std::uint64_t v) { return std::string(reinterpret_cast<const char*>(&v), 8); };
  EXPECT_TRUE(refused(std::string("\x04", 1)));                              // no such form
  EXPECT_TRUE(refused(std::string("\x00\x41", 2) + std::string(520, 'x')));  // 65 exact hashes
  EXPECT_TRUE(refused(std::string("\x00\x02", 2) + u64(7) + u64(7)));        // not distinct
  EXPECT_TRUE(refused(std::string("\x00\x02", 2) + u64(9) + u64(7)));        // not sorted
  // Sparse: a rank of 0, a rank above 53, an index past the registers, indices not ascending.
  EXPECT_TRUE(refused(std::string("\x01\x01\x00\x05\x00\x00", 6)));
  EXPECT_TRUE(refused(std::string("\x01\x01\x00\x05\x00\x36", 6)));
  EXPECT_TRUE(refused(std::string("\x01\x01\x00\x00\x10\x01", 6)));
  EXPECT_TRUE(refused(std::string("\x01\x02\x00\x05\x00\x01\x05\x00\x01", 9)));
  // Bitmap: a rank of 0, a rank above 53, fewer ranks than bits set.
  std::string bitmap = std::string(1, '\x03') + std::string(DistinctCounter::kRegisters / 8, '\0');
  bitmap[1] = '\x05';  // registers 0 and 2
  EXPECT_TRUE(refused(bitmap + std::string("\x01\x00", 2)));
  EXPECT_TRUE(refused(bitmap + std::string("\x01\x36", 2)));
  EXPECT_TRUE(refused(bitmap + std::string("\x01", 1)));
  EXPECT_TRUE(restoreFrom(counter, bitmap + std::string("\x01\x35", 2)));
  // Dense: a rank above 53.
  std::string dense(1 + DistinctCounter::kRegisters, '\x01');
  dense[0] = '\x02';
  dense[100] = '\x40';
  EXPECT_TRUE(refused(dense));
  dense[100] = '\x35';
  EXPECT_TRUE(restoreFrom(counter, dense)) << "rank 53 is the highest there is";
}

// ---- TopK ----

// Items drawn so that counts tie often: which of equal smallest counts is replaced then decides
// what the summary holds.
std::vector<std::string> topKItems(std::size_t n, int distinct, std::mt19937_64& rng) {
  std::vector<std::string> items;
  std::uniform_int_distribution<int> pick(0, distinct - 1);
  for (std::size_t i = 0; i < n; ++i) items.push_back("item" + std::to_string(pick(rng)));
  return items;
}

std::string describeAll(const TopK& summary) {
  std::string out = std::to_string(summary.total()) + ":";
  for (const TopK::Entry& e : summary.top(summary.capacity())) {
    out +=
        " " + std::string(e.item) + "=" + std::to_string(e.count) + "/" + std::to_string(e.error);
  }
  return out;
}

TEST(SketchSnapshotTest, TopKRestoresCountersAndTheirHeapOrder) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 20; ++round) {
    TopK original(64);
    for (const std::string& item : topKItems(500, 150, rng)) original.add(item);
    const std::string bytes = snapshotOf(original);

    TopK restored(64);
    for (const std::string& item : topKItems(300, 1000, rng)) restored.add(item);  // replaced
    ASSERT_TRUE(restoreFrom(restored, bytes));
    EXPECT_EQ(describeAll(restored), describeAll(original));
    EXPECT_EQ(snapshotOf(restored), bytes);
    // The same items from here: the same counters replaced, item by item.
    for (const std::string& item : topKItems(400, 150, rng)) {
      original.add(item);
      restored.add(item);
      ASSERT_EQ(describeAll(restored), describeAll(original)) << "round " << round;
    }
    EXPECT_EQ(snapshotOf(restored), snapshotOf(original));
    // And a merge lays the result out alike.
    TopK other(64);
    for (const std::string& item : topKItems(300, 150, rng)) other.add(item);
    original.merge(other);
    restored.merge(other);
    EXPECT_EQ(snapshotOf(restored), snapshotOf(original));
  }
}

TEST(SketchSnapshotTest, TopKRefusesCorruptInput) {
  TopK original(64);
  for (const char* item : {"a", "b", "b", "c", "c", "c"}) original.add(item);
  const std::string bytes = snapshotOf(original);
  auto empty = [](const TopK& s) { return s.size() == 0 && s.total() == 0; };
  expectTruncationsRefused(TopK(64), bytes, empty);

  // Layout: total (8), n (4), then per counter count (8), error (8), size (4), item (1 byte
  // here); then the heap (2 bytes per counter). Counter i starts at 12 + 21 i.
  auto corrupt = [&](std::size_t at, auto value) {
    std::string out = bytes;
    std::memcpy(out.data() + at, &value, sizeof value);
    return out;
  };
  const std::size_t heap = 12 + 3 * 21;
  TopK summary(64);
  for (const std::string& bad : {
           corrupt(0, std::uint64_t{5}),     // counts that sum past the total
           corrupt(12, std::uint64_t{0}),    // a count of 0
           corrupt(20, std::uint64_t{9}),    // an error not below its count
           corrupt(32, 'b'),                 // the same item twice
           corrupt(heap, std::uint16_t{1}),  // a heap that is no permutation
           corrupt(heap, std::uint16_t{3}),  // an index past the counters
       }) {
    EXPECT_FALSE(restoreFrom(summary, bad));
    EXPECT_TRUE(empty(summary));
  }
  // A heap out of order: the largest count on top.
  std::string swapped = bytes;
  std::swap(swapped[heap], swapped[heap + 4]);
  std::swap(swapped[heap + 1], swapped[heap + 5]);
  EXPECT_FALSE(restoreFrom(summary, swapped));
  // More counters than this summary has.
  TopK big(200);
  for (int i = 0; i < 100; ++i) big.add("x" + std::to_string(i));
  TopK small(64);
  EXPECT_FALSE(restoreFrom(small, snapshotOf(big)));
  EXPECT_TRUE(empty(small));
}

}  // namespace
}  // namespace rivulet::pipeline

// SketchPool and SketchStore: handles, reuse of released sketches (cleared, buffers kept), stable
// references while the store grows, one top-k store per top_k aggregate.
#include "pipeline/aggregates/sketch_pool.h"

#include <gtest/gtest.h>

#include <span>
#include <vector>

#include "pipeline/aggregates/aggregate.h"

namespace rivulet::pipeline {
namespace {

TEST(SketchStore, ReleasedSketchesAreClearedAndHandedOutAgain) {
  SketchStore<QuantileSketch> store{QuantileSketch()};
  const std::uint32_t a = store.acquire();
  const std::uint32_t b = store.acquire();
  EXPECT_NE(a, b);
  for (int i = 1; i <= 1000; ++i) store[a].add(i);
  const std::size_t grown = store[a].memoryBytes();
  store.release(a);
  EXPECT_EQ(store.inUse(), 1u);
  EXPECT_EQ(store.acquire(), a);
  EXPECT_EQ(store[a].count(), 0u);
  EXPECT_EQ(store[a].memoryBytes(), grown);  // clear() kept the buckets
  EXPECT_EQ(store.size(), 2u);
  EXPECT_EQ(store.inUse(), 2u);
}

TEST(SketchStore, ReferencesStayValidWhileItGrows) {
  SketchStore<DistinctCounter> store{DistinctCounter()};
  DistinctCounter& first = store[store.acquire()];
  first.add(42);
  for (int i = 0; i < 10'000; ++i) store.acquire();
  EXPECT_EQ(&first, &store[0]);
  EXPECT_EQ(first.estimate(), 1u);
}

TEST(SketchPool, HasAStoreOfTheRightCapacityPerTopK) {
  std::vector<config::AggregateSpec> specs(3);
  specs[0] = {"a", config::AggregateKind::kTopK, "x"};
  specs[0].k = 3;
  specs[1] = {"b", config::AggregateKind::kQuantile, "x"};
  specs[2] = {"c", config::AggregateKind::kTopK, "y"};
  specs[2].k = 20;
  const std::vector<int> index = {0, 1, 2};
  const Aggregates aggregates(specs, index);
  const std::span<const std::size_t> capacities = aggregates.topKCapacities();
  EXPECT_EQ(std::vector<std::size_t>(capacities.begin(), capacities.end()),
            (std::vector<std::size_t>{64, 200}));
  SketchPool pool(aggregates);
  EXPECT_EQ(pool.topK(0)[pool.topK(0).acquire()].capacity(), 64u);
  EXPECT_EQ(pool.topK(1)[pool.topK(1).acquire()].capacity(), 200u);
  pool.quantiles().acquire();
  EXPECT_EQ(pool.inUse(), 3u);
  EXPECT_EQ(pool.size(), 3u);
  EXPECT_GT(pool.memoryBytes(), 0u);
}

}  // namespace
}  // namespace rivulet::pipeline

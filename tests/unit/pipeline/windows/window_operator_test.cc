// WindowOperator on hand-checked streams (the random ones are in
// tests/property/window_property_test.cc), and compilePipeline, which builds its plan.
#include "pipeline/windows/window_operator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "pipeline/model/hash.h"
#include "pipeline/model/plan.h"
#include "pipeline/model/record.h"
#include "tests/support/operator_run.h"
#include "tests/support/result_log.h"
#include "tests/unit/pipeline/allocation_counter.h"

namespace rivulet::pipeline {
namespace {

using config::AggregateKind;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testutil::ResultLog;

config::Config configWith(config::WindowSpec window, config::Nanos lateness) {
  config::Config config;
  for (const char* name : {"a", "b", "c"}) {
    config::SourceConfig source;
    source.name = name;
    config.sources.push_back(source);
  }
  config::PipelineConfig p;
  p.name = "p";
  p.from = {"c", "a"};
  p.group_by = {config::GroupBySpec{"k"}};
  p.window = window;
  p.allowed_lateness = lateness;
  p.aggregates = {{"n", AggregateKind::kCount, ""}, {"sum", AggregateKind::kSum, "v"}};
  config.pipelines.push_back(p);
  return config;
}

class WindowOperatorTest : public ::testing::Test {
 protected:
  void tumbling(config::Nanos size, config::Nanos lateness = 0) {
    make({config::WindowKind::kTumbling, size, size}, lateness);
  }
  void hopping(config::Nanos size, config::Nanos slide, config::Nanos lateness = 0) {
    make({config::WindowKind::kHopping, size, slide}, lateness);
  }
  void make(config::WindowSpec window, config::Nanos lateness, bool updates = false) {
    config::Config config = configWith(window, lateness);
    config.pipelines[0].emit_updates = updates;
    run_ = std::make_unique<testutil::OperatorRun<WindowOperator>>(
        compilePipeline(config, 0), ResultLog::WindowEnds::kLoggedAfterSortedResults);
  }

  bool add(std::int64_t time, const std::string& key, double value = 1) {
    return run_->op.add(time, hashKey(key), key, &value) == AddResult::kAdded;
  }
  std::vector<std::string> advance(std::int64_t watermark) {
    run_->op.advanceWatermark(watermark, run_->sink);
    return std::exchange(run_->sink.log, {});
  }
  std::vector<std::string> flush(ResultKind kind) {
    run_->op.flush(kind, run_->sink);
    return std::exchange(run_->sink.log, {});
  }

  std::unique_ptr<testutil::OperatorRun<WindowOperator>> run_;
};

// emit updates: a window fires as final at its end; until end + lateness each late event re-emits
// its key's result in every fired window containing it, then the window closes for good.
TEST_F(WindowOperatorTest, EmitUpdatesFiresAtTheEndThenUpdatesPerLateEvent) {
  make({config::WindowKind::kTumbling, 10, 10}, 5, /*updates=*/true);
  EXPECT_TRUE(add(1, "a", 1));
  EXPECT_TRUE(add(2, "b", 2));
  EXPECT_THAT(advance(10), ElementsAre(R"(final [0,10) a {"n":1,"sum":1})",
                                       R"(final [0,10) b {"n":1,"sum":2})", "end [0,10) 2"));
  EXPECT_TRUE(add(3, "a", 4));  // late, within lateness
  EXPECT_TRUE(add(4, "c", 8));  // a key new to the fired window
  EXPECT_THAT(std::exchange(run_->sink.log, {}), ElementsAre(R"(update [0,10) a {"n":2,"sum":5})",
                                                             R"(update [0,10) c {"n":1,"sum":8})"));
  EXPECT_TRUE(add(12, "a", 16));  // the next window: no update
  EXPECT_TRUE(run_->sink.log.empty());
  EXPECT_THAT(advance(15), ElementsAre());
  EXPECT_FALSE(add(5, "a", 32));  // end + lateness passed: late
  EXPECT_TRUE(run_->sink.log.empty());
  EXPECT_THAT(flush(ResultKind::kFinal),
              ElementsAre(R"(final [10,20) a {"n":1,"sum":16})", "end [10,20) 1"));
}

// Hopping: an update carries the key's whole window (all its slices), and goes only to the fired
// windows containing the event that are still open.
TEST_F(WindowOperatorTest, EmitUpdatesMergesTheSlicesOfAHoppingWindow) {
  make({config::WindowKind::kHopping, 10, 5}, 6, /*updates=*/true);
  EXPECT_TRUE(add(1, "a", 1));  // windows [-5,5) and [0,10)
  EXPECT_TRUE(add(7, "a", 2));  // windows [0,10) and [5,15)
  EXPECT_THAT(advance(10), ElementsAre(R"(final [-5,5) a {"n":1,"sum":1})", "end [-5,5) 1",
                                       R"(final [0,10) a {"n":2,"sum":3})", "end [0,10) 1"));
  EXPECT_TRUE(add(6, "a", 4));  // [0,10) fired and open: update; [5,15) not fired yet
  EXPECT_THAT(std::exchange(run_->sink.log, {}), ElementsAre(R"(update [0,10) a {"n":3,"sum":7})"));
  EXPECT_TRUE(add(2, "a", 8));  // [-5,5) is open until the watermark reaches 5 + 6: both update
  EXPECT_THAT(
      std::exchange(run_->sink.log, {}),
      ElementsAre(R"(update [-5,5) a {"n":2,"sum":9})", R"(update [0,10) a {"n":4,"sum":15})"));
  EXPECT_THAT(advance(12), ElementsAre());  // [-5,5) closes (5 + 6 <= 12); [5,15) fires at 15
  EXPECT_TRUE(add(3, "a", 16));             // only [0,10) is still open
  EXPECT_THAT(std::exchange(run_->sink.log, {}),
              ElementsAre(R"(update [0,10) a {"n":5,"sum":31})"));
}

// max_keys bounds the keys of each slice: a new key past it is refused and changes nothing; known
// keys still add, and the next slice starts with room again.
TEST_F(WindowOperatorTest, MaxKeysRefusesNewKeysOfAFullSlice) {
  tumbling(10);
  run_->plan.max_keys = 2;
  const double one = 1;
  auto addKey = [&](std::int64_t time, const std::string& key) {
    return run_->op.add(time, hashKey(key), key, &one);
  };
  EXPECT_EQ(addKey(1, "a"), AddResult::kAdded);
  EXPECT_EQ(addKey(2, "b"), AddResult::kAdded);
  EXPECT_EQ(addKey(3, "c"), AddResult::kRefused);
  EXPECT_EQ(addKey(4, "a"), AddResult::kAdded);
  EXPECT_EQ(addKey(11, "c"), AddResult::kAdded);  // another slice
  EXPECT_EQ(addKey(12, "d"), AddResult::kAdded);
  EXPECT_EQ(addKey(13, "e"), AddResult::kRefused);
  EXPECT_EQ(run_->op.stateEntries(), 4u);
  EXPECT_THAT(advance(100),
              ElementsAre(R"(final [0,10) a {"n":2,"sum":2})", R"(final [0,10) b {"n":1,"sum":1})",
                          "end [0,10) 2", R"(final [10,20) c {"n":1,"sum":1})",
                          R"(final [10,20) d {"n":1,"sum":1})", "end [10,20) 2"));
  EXPECT_EQ(addKey(105, "e"), AddResult::kAdded);  // a recycled slice has room again
}

TEST_F(WindowOperatorTest, TumblingWindowsAreAlignedToTheEpochForNegativeTimesToo) {
  tumbling(10);
  for (const auto& [time, key] : std::vector<std::pair<std::int64_t, std::string>>{
           {1, "a"}, {5, "b"}, {9, "a"}, {10, "a"}, {-1, "a"}, {-10, "b"}, {-11, "b"}}) {
    EXPECT_TRUE(add(time, key)) << time;
  }
  EXPECT_THAT(advance(100),
              ElementsAre(R"(final [-20,-10) b {"n":1,"sum":1})", "end [-20,-10) 1",
                          R"(final [-10,0) a {"n":1,"sum":1})",
                          R"(final [-10,0) b {"n":1,"sum":1})", "end [-10,0) 2",
                          R"(final [0,10) a {"n":2,"sum":2})", R"(final [0,10) b {"n":1,"sum":1})",
                          "end [0,10) 2", R"(final [10,20) a {"n":1,"sum":1})", "end [10,20) 1"));
  EXPECT_EQ(run_->op.stateEntries(), 0u);
}

TEST_F(WindowOperatorTest, AWindowFiresOnceWhenTheWatermarkReachesItsEnd) {
  tumbling(10);
  add(3, "a", 2);
  add(4, "a", 5);
  EXPECT_THAT(advance(9), IsEmpty());
  EXPECT_THAT(advance(10), ElementsAre(R"(final [0,10) a {"n":2,"sum":7})", "end [0,10) 1"));
  EXPECT_THAT(advance(10), IsEmpty());
  EXPECT_THAT(advance(5), IsEmpty());  // a lower watermark is ignored
  EXPECT_EQ(run_->op.watermark(), 10);
  EXPECT_THAT(flush(ResultKind::kFinal), IsEmpty());
}

TEST_F(WindowOperatorTest, LateEventsAreDroppedAndChangeNothing) {
  tumbling(10);
  EXPECT_TRUE(add(3, "a"));
  advance(10);
  EXPECT_FALSE(add(9, "a"));
  EXPECT_FALSE(add(-100, "b"));
  EXPECT_EQ(run_->op.stateEntries(), 0u);
  EXPECT_TRUE(add(10, "a"));
  EXPECT_THAT(advance(20), ElementsAre(R"(final [10,20) a {"n":1,"sum":1})", "end [10,20) 1"));
}

TEST_F(WindowOperatorTest, AllowedLatenessKeepsAWindowOpenPastItsEnd) {
  tumbling(10, /*lateness=*/5);
  add(3, "a");
  EXPECT_THAT(advance(10), IsEmpty());
  EXPECT_TRUE(add(9, "a"));
  EXPECT_THAT(advance(14), IsEmpty());
  EXPECT_THAT(advance(15), ElementsAre(R"(final [0,10) a {"n":2,"sum":2})", "end [0,10) 1"));
  EXPECT_FALSE(add(9, "a"));
  EXPECT_TRUE(add(10, "a"));
}

TEST_F(WindowOperatorTest, AHoppingWindowCountsEveryEventItContains) {
  hopping(10, 5);
  add(7, "a", 1);
  add(3, "b", 2);  // also in [-5,5), which starts before any event
  EXPECT_THAT(advance(100),
              ElementsAre(R"(final [-5,5) b {"n":1,"sum":2})", "end [-5,5) 1",
                          R"(final [0,10) a {"n":1,"sum":1})", R"(final [0,10) b {"n":1,"sum":2})",
                          "end [0,10) 2", R"(final [5,15) a {"n":1,"sum":1})", "end [5,15) 1"));
}

TEST_F(WindowOperatorTest, AHoppingWindowMergesItsSlices) {
  hopping(10, 5);
  add(1, "a", 1);
  add(6, "a", 2);
  add(12, "a", 4);
  add(-3, "b", 8);
  EXPECT_THAT(advance(10),
              ElementsAre(R"(final [-10,0) b {"n":1,"sum":8})", "end [-10,0) 1",
                          R"(final [-5,5) a {"n":1,"sum":1})", R"(final [-5,5) b {"n":1,"sum":8})",
                          "end [-5,5) 2", R"(final [0,10) a {"n":2,"sum":3})", "end [0,10) 1"));
  EXPECT_THAT(advance(15), ElementsAre(R"(final [5,15) a {"n":2,"sum":6})", "end [5,15) 1"));
  EXPECT_THAT(flush(ResultKind::kFinal),
              ElementsAre(R"(final [10,20) a {"n":1,"sum":4})", "end [10,20) 1"));
}

TEST_F(WindowOperatorTest, SlicesAreTheGcdOfSizeAndSlide) {
  hopping(10, 4);  // windows [0,10), [4,14), [8,18), ...; slices of 2
  EXPECT_EQ(run_->plan.slice, 2);
  add(9, "a", 1);  // windows starting at 0, 4 and 8
  add(3, "a", 2);  // windows starting at -4 and 0
  EXPECT_THAT(flush(ResultKind::kFinal),
              ElementsAre(R"(final [-4,6) a {"n":1,"sum":2})", "end [-4,6) 1",
                          R"(final [0,10) a {"n":2,"sum":3})", "end [0,10) 1",
                          R"(final [4,14) a {"n":1,"sum":1})", "end [4,14) 1",
                          R"(final [8,18) a {"n":1,"sum":1})", "end [8,18) 1"));
}

TEST_F(WindowOperatorTest, FlushEmitsEveryOpenWindowWithItsKind) {
  tumbling(10);
  add(3, "a");
  add(15, "b");
  EXPECT_THAT(advance(10), ElementsAre(R"(final [0,10) a {"n":1,"sum":1})", "end [0,10) 1"));
  EXPECT_THAT(flush(ResultKind::kPartial),
              ElementsAre(R"(partial [10,20) b {"n":1,"sum":1})", "end [10,20) 1"));
  EXPECT_EQ(run_->op.stateEntries(), 0u);
  EXPECT_THAT(flush(ResultKind::kPartial), IsEmpty());
}

TEST_F(WindowOperatorTest, FlushOfAHoppingWindowIncludesWindowsBeyondTheLastEvent) {
  hopping(10, 5);
  add(7, "a");
  EXPECT_THAT(flush(ResultKind::kPartial),
              ElementsAre(R"(partial [0,10) a {"n":1,"sum":1})", "end [0,10) 1",
                          R"(partial [5,15) a {"n":1,"sum":1})", "end [5,15) 1"));
}

TEST_F(WindowOperatorTest, EmptyWindowsPassedByTheWatermarkNeverFire) {
  hopping(10, 5);
  EXPECT_THAT(advance(15), IsEmpty());  // passes [5,15) and every window before it, all empty
  // 12 is in [5,15), passed, and [10,20), still open: the event counts only in the latter.
  EXPECT_TRUE(add(12, "a"));
  EXPECT_THAT(advance(20), ElementsAre(R"(final [10,20) a {"n":1,"sum":1})", "end [10,20) 1"));
  EXPECT_THAT(flush(ResultKind::kFinal), IsEmpty());

  tumbling(10);
  advance(10);
  EXPECT_FALSE(add(5, "a"));  // its only window was passed, empty
}

TEST_F(WindowOperatorTest, AFiredWindowNeverFiresAgain) {
  hopping(10, 5);
  add(7, "a");
  EXPECT_THAT(advance(10), ElementsAre(R"(final [0,10) a {"n":1,"sum":1})", "end [0,10) 1"));
  EXPECT_TRUE(add(8, "b"));  // [0,10) has fired; [5,15) is open
  EXPECT_THAT(advance(15), ElementsAre(R"(final [5,15) a {"n":1,"sum":1})",
                                       R"(final [5,15) b {"n":1,"sum":1})", "end [5,15) 2"));
  EXPECT_THAT(flush(ResultKind::kFinal), IsEmpty());
}

TEST_F(WindowOperatorTest, StateIsFreedWhenItsLastWindowFires) {
  tumbling(10);
  add(1, "a");
  add(2, "b");
  add(3, "a");
  add(11, "a");
  EXPECT_EQ(run_->op.stateEntries(), 3u);
  advance(10);
  EXPECT_EQ(run_->op.stateEntries(), 1u);
  EXPECT_EQ(run_->op.lastWindowKeys(), 2u);
  advance(20);
  EXPECT_EQ(run_->op.stateEntries(), 0u);
  EXPECT_EQ(run_->op.lastWindowKeys(), 1u);

  hopping(10, 5);
  add(1, "a");  // slice [0,5): windows [-5,5) and [0,10)
  advance(5);
  EXPECT_EQ(run_->op.stateEntries(), 1u);
  advance(10);
  EXPECT_EQ(run_->op.stateEntries(), 0u);
}

TEST_F(WindowOperatorTest, SlicesAreRecycledAcrossManyWindows) {
  hopping(10, 2, /*lateness=*/3);
  std::size_t fired = 0;
  for (std::int64_t t = 0; t < 10'000; ++t) {
    std::string key = "key";  // not "key" + std::to_string(): a false -Wrestrict in g++ 12 -O3
    key += std::to_string(t % 7);
    ASSERT_TRUE(add(t, key, static_cast<double>(t)));
    fired += advance(t - 1).size();
    // Live: the slices [s, s + 2) with s + 10 + 3 > watermark, two events (keys) each.
    EXPECT_LE(run_->op.stateEntries(), 14u);
  }
  EXPECT_GT(fired, 0u);
}

class NullSink : public ResultSink {
 public:
  void onResult(const WindowResult& r) override { events += r.state[0].i; }
  void onWindowEnd(std::int64_t, std::int64_t, std::size_t) override { ++windows; }
  std::int64_t events = 0;
  std::size_t windows = 0;
};

TEST_F(WindowOperatorTest, TheSteadyStateDoesNotAllocate) {
  for (const config::Nanos slide : {100, 25}) {
    SCOPED_TRACE(slide);
    hopping(100, slide, /*lateness=*/30);
    std::vector<std::string> keys;
    std::vector<std::uint64_t> hashes;
    for (int k = 0; k < 500; ++k) {
      keys.push_back(std::to_string(k * 7919));
      hashes.push_back(hashKey(keys.back()));
    }
    NullSink sink;
    const double value = 1;
    std::int64_t time = 0;
    std::size_t allocated = 0;
    for (int round = 0; round < 2; ++round) {
      // Round 0 grows the slice pool and the tables; round 1 must reuse them.
      const std::size_t before = testutil::allocations.load();
      for (int i = 0; i < 50'000; ++i, ++time) {
        const std::size_t k = static_cast<std::size_t>(i * 31 % 500);
        // Events up to 20 late, as a source's disorder would deliver them.
        run_->op.add(time - (i % 3) * 10, hashes[k], keys[k], &value);
        if (i % 50 == 0) run_->op.advanceWatermark(time - 20, sink);
      }
      allocated = testutil::allocations.load() - before;
    }
    EXPECT_EQ(allocated, 0u);
    EXPECT_GT(sink.windows, 0u);
  }
}

TEST_F(WindowOperatorTest, TimesNearTheInt64LimitsDoNotOverflow) {
  constexpr std::int64_t kHuge = kMaxTime / 2;
  tumbling(10, kHuge);
  EXPECT_FALSE(add(kMaxTime, "a"));      // its window would end past kMaxTime
  EXPECT_FALSE(add(kMaxTime - 5, "a"));  // likewise
  EXPECT_FALSE(add(kMinTime, "a"));
  EXPECT_TRUE(add(kMaxTime - 100, "a"));  // end + lateness saturates
  EXPECT_TRUE(add(kMinTime + 100, "b"));
  EXPECT_THAT(advance(kMinTime + 200), IsEmpty());
  EXPECT_THAT(advance(kMaxTime - 1),
              ElementsAre(R"(final [-9223372036854775710,-9223372036854775700) b {"n":1,"sum":1})",
                          "end [-9223372036854775710,-9223372036854775700) 1"));
  // The end of the input: every window fires.
  EXPECT_THAT(advance(kMaxTime),
              ElementsAre(R"(final [9223372036854775700,9223372036854775710) a {"n":1,"sum":1})",
                          "end [9223372036854775700,9223372036854775710) 1"));
  EXPECT_FALSE(add(0, "a"));
  EXPECT_THAT(flush(ResultKind::kFinal), IsEmpty());

  hopping(10, 5, kMaxTime);
  EXPECT_TRUE(add(kMinTime + 100, "a"));
  EXPECT_EQ(flush(ResultKind::kPartial).size(), 4u);
}

TEST_F(WindowOperatorTest, WithSlideAboveSizeAnEventBetweenWindowsBelongsToNone) {
  hopping(5, 10);  // windows [0,5), [10,15), ...
  EXPECT_TRUE(add(7, "a"));
  EXPECT_EQ(run_->op.stateEntries(), 0u);
  EXPECT_TRUE(add(3, "a"));
  EXPECT_TRUE(add(-8, "a"));
  EXPECT_THAT(advance(100), ElementsAre(R"(final [-10,-5) a {"n":1,"sum":1})", "end [-10,-5) 1",
                                        R"(final [0,5) a {"n":1,"sum":1})", "end [0,5) 1"));
}

TEST_F(WindowOperatorTest, KeysAreOpaqueBytes) {
  tumbling(10);
  const std::string with_nul("a\0b", 3);
  add(1, with_nul);
  add(2, "a");
  add(3, with_nul);
  EXPECT_THAT(advance(10), ElementsAre("final [0,10) " + with_nul + R"( {"n":2,"sum":2})",
                                       R"(final [0,10) a {"n":1,"sum":1})", "end [0,10) 2"));
}

TEST(CompilePipelineTest, ResolvesWindowsValuesAndSources) {
  config::Config config = configWith({config::WindowKind::kHopping, 10'000, 4'000}, 500);
  config::PipelineConfig& p = config.pipelines[0];
  p.aggregates = {{"trades", AggregateKind::kCount, ""},
                  {"volume", AggregateKind::kSum, "qty"},
                  {"high", AggregateKind::kMax, "price"},
                  {"avg_qty", AggregateKind::kAvg, "qty"},
                  {"first", AggregateKind::kFirst, "venue_id"}};
  config::PipelineConfig tumbling = p;
  tumbling.name = "t";
  tumbling.from = {"b"};
  tumbling.window = {config::WindowKind::kTumbling, 60'000, 0};
  config.pipelines.push_back(tumbling);

  const PipelinePlan plan = compilePipeline(config, 0);
  EXPECT_EQ(plan.id, 0);
  EXPECT_EQ(plan.name, "p");
  ASSERT_EQ(plan.group_by.size(), 1u);
  EXPECT_EQ(plan.group_by[0].name, "k");
  EXPECT_FALSE(plan.group_by[0].expression.has_value());
  EXPECT_EQ(plan.size, 10'000);
  EXPECT_EQ(plan.slide, 4'000);
  EXPECT_EQ(plan.slice, 2'000);
  EXPECT_EQ(plan.allowed_lateness, 500);
  ASSERT_EQ(plan.aggregates.size(), 5u);
  EXPECT_EQ(plan.aggregates[2].name, "high");
  EXPECT_EQ(plan.value_fields, (std::vector<std::string>{"qty", "price", "venue_id"}));
  EXPECT_EQ(plan.value_index, (std::vector<int>{-1, 0, 1, 0, 2}));
  EXPECT_EQ(plan.sources, (std::vector<int>{2, 0}));

  const PipelinePlan t = compilePipeline(config, 1);
  EXPECT_EQ(t.id, 1);
  EXPECT_EQ(t.size, 60'000);
  EXPECT_EQ(t.slide, 60'000);
  EXPECT_EQ(t.slice, 60'000);
  EXPECT_EQ(t.sources, std::vector<int>{1});
}

// A field read by count_distinct or top_k travels in its own form, after the numbers; quantiles
// read the number like the other numeric aggregates.
TEST(CompilePipelineTest, ArgumentsOfCountDistinctAndTopKFollowTheNumbers) {
  config::Config config = configWith({config::WindowKind::kTumbling, 1000, 1000}, 0);
  config::AggregateSpec top{"top", AggregateKind::kTopK, "x"};
  top.k = 3;
  config::AggregateSpec p99{"p99", AggregateKind::kQuantile, "x"};
  p99.quantile = 0.99;
  config.pipelines[0].aggregates = {top,
                                    {"users", AggregateKind::kCountDistinct, "x"},
                                    p99,
                                    {"total", AggregateKind::kSum, "y"},
                                    {"n", AggregateKind::kCount, ""},
                                    {"buyers", AggregateKind::kCountDistinct, "x"}};
  const PipelinePlan plan = compilePipeline(config, 0);
  EXPECT_EQ(plan.value_fields, (std::vector<std::string>{"x", "y", "x", "x"}));
  EXPECT_EQ(plan.value_forms, (std::vector<ValueForm>{ValueForm::kNumber, ValueForm::kNumber,
                                                      ValueForm::kItem, ValueForm::kDistinctHash}));
  EXPECT_EQ(plan.value_index, (std::vector<int>{2, 3, 0, 1, -1, 3}));
}

TEST(CompilePipelineTest, CountOnlyPipelineCarriesNoValues) {
  config::Config config = configWith({config::WindowKind::kTumbling, 1000, 1000}, 0);
  config.pipelines[0].aggregates = {{"n", AggregateKind::kCount, ""}};
  const PipelinePlan plan = compilePipeline(config, 0);
  EXPECT_TRUE(plan.value_fields.empty());
  EXPECT_EQ(plan.value_index, std::vector<int>{-1});
}

}  // namespace
}  // namespace rivulet::pipeline

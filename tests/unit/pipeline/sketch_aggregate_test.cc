// The sketch aggregates (quantile, count_distinct, top_k) through Aggregates and WindowOperator:
// results and their JSON, nulls, merging the slices of hopping windows in any order, updates, and
// the SketchPool: shared quantile sketches, every sketch returned, no allocation once warm. The
// sketches' own accuracy is tested in quantile_sketch_test.cc, distinct_counter_test.cc and
// top_k_test.cc; random streams in tests/property/window_property_test.cc.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/aggregates/aggregate.h"
#include "pipeline/aggregates/sketch_pool.h"
#include "pipeline/model/hash.h"
#include "pipeline/model/plan.h"
#include "pipeline/model/value_slot.h"
#include "pipeline/windows/window_operator.h"
#include "tests/support/operator_run.h"
#include "tests/support/plans.h"
#include "tests/support/result_log.h"
#include "tests/unit/pipeline/allocation_counter.h"

namespace rivulet::pipeline {
namespace {

using config::AggregateKind;
using ::testing::ElementsAre;
using testutil::ResultLog;

constexpr double kNull = std::numeric_limits<double>::quiet_NaN();

config::AggregateSpec spec(std::string name, AggregateKind kind, std::string field, double q = 0,
                           std::int64_t k = 0) {
  config::AggregateSpec s;
  s.name = std::move(name);
  s.kind = kind;
  s.field = std::move(field);
  s.quantile = q;
  s.k = k;
  return s;
}

// x: a number; u: any value, for count_distinct; v: any value, for top_k. Two quantiles of x.
config::Config configWith(config::WindowSpec window, bool updates = false,
                          config::Nanos lateness = 0) {
  return testutil::configOf({.window = window,
                             .lateness = lateness,
                             .updates = updates,
                             .aggregates = {spec("p50", AggregateKind::kQuantile, "x", 0.5),
                                            spec("p99", AggregateKind::kQuantile, "x", 0.99),
                                            spec("users", AggregateKind::kCountDistinct, "u"),
                                            spec("top", AggregateKind::kTopK, "v", 0, 2)}});
}

// One event's values as a router writes them (pipeline/model/value_slot.h): the slots x, u, v, then
// v's item bytes.
struct Values {
  std::optional<double> x;
  std::optional<double> u_number;
  std::optional<std::string> u_string;
  std::optional<std::string> v;  // an item: type byte, then text
};

std::string str(std::string_view text) {
  return static_cast<char>(KeyPartType::kString) + std::string(text);
}
std::string num(std::string_view text) {
  return static_cast<char>(KeyPartType::kNumber) + std::string(text);
}

std::vector<double> slotsOf(const Values& values) {
  std::vector<double> slots(3, kNull);
  if (values.x) slots[0] = *values.x;
  if (values.u_number) slots[1] = std::bit_cast<double>(distinctHash(*values.u_number));
  if (values.u_string) {
    slots[1] = std::bit_cast<double>(distinctHash(KeyPartType::kString, *values.u_string));
  }
  if (values.v) {
    const ItemRef ref{3 * sizeof(double), static_cast<std::uint32_t>(values.v->size())};
    slots[2] = std::bit_cast<double>(ref.bits());
    slots.resize(3 + (values.v->size() + 7) / 8);
    std::memcpy(&slots[3], values.v->data(), values.v->size());
  }
  return slots;
}

class SketchAggregateTest : public ::testing::Test {
 protected:
  void make(config::WindowSpec window, bool updates = false, config::Nanos lateness = 0) {
    run_ = std::make_unique<testutil::OperatorRun<WindowOperator>>(
        compilePipeline(configWith(window, updates, lateness), 0), ResultLog::WindowEnds::kIgnored);
    ASSERT_EQ(
        run_->plan.value_forms,
        (std::vector<ValueForm>{ValueForm::kNumber, ValueForm::kDistinctHash, ValueForm::kItem}));
  }
  void tumbling(config::Nanos size) { make({config::WindowKind::kTumbling, size, size}); }
  void hopping(config::Nanos size, config::Nanos slide) {
    make({config::WindowKind::kHopping, size, slide});
  }

  void add(std::int64_t time, const std::string& key, const Values& values) {
    const std::vector<double> slots = slotsOf(values);
    EXPECT_EQ(run_->op.add(time, hashKey(key), key, slots.data()), AddResult::kAdded);
  }
  std::vector<std::string> advance(std::int64_t watermark) {
    run_->op.advanceWatermark(watermark, run_->sink);
    return std::exchange(run_->sink.log, {});
  }

  std::unique_ptr<testutil::OperatorRun<WindowOperator>> run_;
};

// The number after "name": in a result line.
double numberOf(const std::string& line, const std::string& name) {
  const std::size_t at = line.find("\"" + name + "\":");
  EXPECT_NE(at, std::string::npos) << line;
  return std::strtod(line.c_str() + at + name.size() + 3, nullptr);
}

TEST_F(SketchAggregateTest, QuantilesDistinctCountAndTopKOfATumblingWindow) {
  tumbling(1000);
  // x = 1..100 in a scrambled time order; u: 1..10 as numbers (1 and 1.0 are one value) and "1" as
  // a string, which is another; v: three venues.
  for (int i = 0; i < 100; ++i) {
    const int x = (i * 37) % 100 + 1;
    Values values{x, (i % 10) + 1.0, std::nullopt, str(i % 5 == 0 ? "NYSE" : "ARCA")};
    if (i == 50) values = {x, std::nullopt, "1", str("BATS")};
    add(i, "a", values);
  }
  const std::vector<std::string> log = advance(1000);
  ASSERT_EQ(log.size(), 1u);
  // The lower quantiles: ranks floor(0.5 * 99) = 49 and floor(0.99 * 99) = 98, i.e. 50 and 99,
  // within the sketch's 1%.
  EXPECT_NEAR(numberOf(log[0], "p50"), 50, 0.5);
  EXPECT_NEAR(numberOf(log[0], "p99"), 99, 0.99);
  EXPECT_THAT(log[0], ::testing::HasSubstr(R"("users":11,"top":[["ARCA",80],["NYSE",19]]})"));
  EXPECT_EQ(run_->op.sketches().inUse(), 0u);
}

TEST_F(SketchAggregateTest, NullsAreSkippedAndAnEmptyInputIsNullOrZero) {
  tumbling(10);
  add(1, "a", {});
  add(2, "a", {});
  add(3, "b", {std::nullopt, 7.0, std::nullopt, std::nullopt});
  add(4, "b", {2.5, std::nullopt, std::nullopt, num("7")});
  add(5, "b", {});
  EXPECT_THAT(advance(10),
              ElementsAre(R"(final [0,10) a {"p50":null,"p99":null,"users":0,"top":null})",
                          R"(final [0,10) b {"p50":2.5,"p99":2.5,"users":1,"top":[[7,1]]})"));
  // Keys without values took no sketch at all.
  EXPECT_EQ(run_->op.sketches().size(), 3u);
}

TEST_F(SketchAggregateTest, TopKPrintsStringsQuotedAndNumbersAndBoolsAsWrittenTiesByBytes) {
  tumbling(10);
  const std::string items[] = {str("NY\"SE"), num("7.50"), str("ARCA"),
                               static_cast<char>(KeyPartType::kBool) + std::string("true")};
  for (int round = 0; round < 2; ++round) {
    for (const std::string& item : items)
      add(1, "a", {std::nullopt, std::nullopt, std::nullopt, item});
  }
  add(2, "a", {std::nullopt, std::nullopt, std::nullopt, str("NY\"SE")});
  // k = 2: NY"SE (3), then of the three with 2 the smallest bytes: the bool ('b' < 'n' < 's').
  EXPECT_THAT(advance(10), ElementsAre(R"(final [0,10) a {"p50":null,"p99":null,"users":0,)"
                                       R"("top":[["NY\"SE",3],[true,2]]})"));
}

// A hopping window merges its slices' sketches, which for these inputs is exact: the window's
// result is the one a tumbling window over the same events gives, in whichever order the slices'
// events arrived.
TEST_F(SketchAggregateTest, AHoppingWindowMergesItsSlicesExactlyInAnyOrder) {
  std::vector<std::pair<std::int64_t, Values>> events;
  for (int i = 0; i < 90; ++i) {
    Values values{std::exp(i % 23) * (i % 2 == 0 ? 1 : -1), std::nullopt,
                  "user" + std::to_string(i % 17), str("venue" + std::to_string(i % 4))};
    if (i % 9 == 0) values.x.reset();
    events.emplace_back((i * 7) % 30, values);  // times 0..29: three slices of 10
  }
  tumbling(30);
  for (const auto& [time, values] : events) add(time, "a", values);
  const std::vector<std::string> tumbled = advance(30);
  ASSERT_EQ(tumbled.size(), 1u);

  for (const bool reversed : {false, true}) {
    SCOPED_TRACE(reversed);
    hopping(30, 10);
    if (reversed) std::reverse(events.begin(), events.end());
    for (const auto& [time, values] : events) add(time, "a", values);
    const std::vector<std::string> log = advance(30);  // fires [-20,10), [-10,20), [0,30)
    ASSERT_EQ(log.size(), 3u);
    EXPECT_EQ(log[2], tumbled[0]);
    advance(1000);
    EXPECT_EQ(run_->op.sketches().inUse(), 0u);
  }
}

// p50 and p99 of x read one sketch: a key holds three sketches per slice, not four.
TEST_F(SketchAggregateTest, QuantilesOfOneFieldShareASketch) {
  hopping(20, 10);
  for (const char* key : {"a", "b"}) {
    add(1, key, {1.0, 2.0, std::nullopt, str("x")});
    add(11, key, {3.0, 4.0, std::nullopt, str("y")});
  }
  EXPECT_EQ(run_->op.sketches().inUse(), 2u * 2 * 3);
  EXPECT_EQ(run_->aggregates.words(), 3u);
  advance(1000);
  EXPECT_EQ(run_->op.sketches().inUse(), 0u);
}

// emit updates: a late event re-emits its key with the sketches of every slice of the window merged
// into a scratch state, which returns its sketches right after.
TEST_F(SketchAggregateTest, UpdatesCarryTheMergedSketches) {
  make({config::WindowKind::kHopping, 20, 10}, /*updates=*/true, /*lateness=*/100);
  add(1, "a", {1.0, 1.0, std::nullopt, str("x")});
  add(11, "a", {2.0, 2.0, std::nullopt, str("y")});
  // A few values: exact quantiles, interpolated between ranks as numpy does.
  EXPECT_THAT(
      advance(20),
      ElementsAre(R"(final [-10,10) a {"p50":1,"p99":1,"users":1,"top":[["x",1]]})",
                  R"(final [0,20) a {"p50":1.5,"p99":1.99,"users":2,"top":[["x",1],["y",1]]})"));
  const std::size_t in_use = run_->op.sketches().inUse();
  add(5, "a", {1.0, 3.0, std::nullopt, str("y")});
  EXPECT_THAT(
      run_->sink.log,
      ElementsAre(R"(update [-10,10) a {"p50":1,"p99":1,"users":2,"top":[["x",1],["y",1]]})",
                  R"(update [0,20) a {"p50":1,"p99":1.98,"users":3,"top":[["y",2],["x",1]]})"));
  EXPECT_EQ(run_->op.sketches().inUse(), in_use);
  run_->op.flush(ResultKind::kPartial, run_->sink);
  EXPECT_EQ(run_->op.sketches().inUse(), 0u);
}

// A sink that formats every result into one string that keeps its capacity: it allocates nothing
// once warm, so the operator's allocations are what is counted.
class JsonSink : public ResultSink {
 public:
  explicit JsonSink(const Aggregates& aggregates) : aggregates_(aggregates) { json_.reserve(1024); }
  void onResult(const WindowResult& r) override {
    json_.clear();
    JsonWriter writer(json_);
    aggregates_.writeJson(r.state, *r.sketches, writer);
    updates += r.kind == ResultKind::kUpdate;
  }
  void onWindowEnd(std::int64_t, std::int64_t, std::size_t) override { ++windows; }
  std::size_t updates = 0;
  std::size_t windows = 0;

 private:
  const Aggregates& aggregates_;
  std::string json_;
};

// Fired slices and merged windows return their sketches, which later states reuse with their
// buffers. A reused sketch allocates only to grow past the largest data it has held, so with every
// state seeing data of the same extent (here each key and slice sees every value of a cycle),
// the pool stops growing and a warm operator allocates nothing.
TEST_F(SketchAggregateTest, TheSteadyStateReusesSketchesAndDoesNotAllocate) {
  constexpr int kKeys = 10;
  constexpr int kPerTick = 4;  // events per key and time unit: 100 per key and slice of 25
  // A cycle of 300 values: x spans 0.1..1000 (25 values, 466 buckets), u has 100 distinct values
  // (past count_distinct's exact 64), v 30 items.
  std::vector<std::vector<double>> cycle;
  for (int j = 0; j < 300; ++j) {
    cycle.push_back(slotsOf({0.1 * std::pow(10.0, (j % 25) / 6.0), static_cast<double>(j % 100),
                             std::nullopt, str("item" + std::to_string(j % 30))}));
  }
  std::vector<std::string> keys;
  std::vector<std::uint64_t> hashes;
  for (int k = 0; k < kKeys; ++k) {
    keys.push_back("key" + std::to_string(k));
    hashes.push_back(hashKey(keys.back()));
  }
  for (const config::Nanos slide : {100, 25}) {
    SCOPED_TRACE(slide);
    make({config::WindowKind::kHopping, 100, slide}, /*updates=*/true, /*lateness=*/30);
    JsonSink sink(run_->aggregates);
    WindowOperator op(run_->plan, run_->aggregates, &sink);
    std::int64_t time = 0;
    std::size_t allocated = 0;
    std::size_t pool = 0;
    for (int round = 0; round < 3; ++round) {
      // Rounds 0 and 1 grow the pool, the sketches and the tables; round 2 must reuse them.
      const std::size_t before = testutil::allocations.load();
      for (int tick = 0; tick < 500; ++tick, ++time) {
        for (int e = 0; e < kKeys * kPerTick; ++e) {
          const std::size_t j = static_cast<std::size_t>(time * kPerTick + e / kKeys) % 300;
          const std::size_t k = static_cast<std::size_t>(e % kKeys);
          // Some events 10 or 20 late: updates of fired windows.
          op.add(time - (e % 3) * 10, hashes[k], keys[k], cycle[j].data());
        }
        op.advanceWatermark(time - 5, sink);
      }
      allocated = testutil::allocations.load() - before;
      if (round == 1) pool = op.sketches().size();
    }
    EXPECT_EQ(allocated, 0u);
    EXPECT_EQ(op.sketches().size(), pool);
    EXPECT_GT(sink.windows, 0u);
    EXPECT_GT(sink.updates, 0u);
  }
}

}  // namespace
}  // namespace rivulet::pipeline

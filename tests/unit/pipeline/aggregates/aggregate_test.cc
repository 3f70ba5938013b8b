// Aggregates: every function's init/update/merge/writeJson, nulls, ties of first/last in time,
// numbers as users read them and exact quantiles of a few values in the payload.
#include "pipeline/aggregates/aggregate.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "pipeline/aggregates/sketch_pool.h"
#include "pipeline/model/snapshot.h"

namespace rivulet::pipeline {
namespace {

using config::AggregateKind;
using config::AggregateSpec;

constexpr double kNull = std::numeric_limits<double>::quiet_NaN();

// One aggregate function over value 0, plus the helpers to drive it.
class OneAggregate {
 public:
  explicit OneAggregate(AggregateKind kind, std::string name = "x")
      : specs_{AggregateSpec{std::move(name), kind, kind == AggregateKind::kCount ? "" : "v"}},
        index_{kind == AggregateKind::kCount ? -1 : 0},
        aggregates_(specs_, index_),
        sketches_(aggregates_) {}

  std::vector<Word> empty() const {
    std::vector<Word> state(aggregates_.words());
    aggregates_.init(state.data());
    return state;
  }
  // A state folded from (time, value) pairs, in this order.
  std::vector<Word> of(std::initializer_list<std::pair<std::int64_t, double>> events) const {
    std::vector<Word> state = empty();
    for (const auto& [time, value] : events) {
      aggregates_.update(state.data(), time, &value, sketches_);
    }
    return state;
  }
  std::string json(const std::vector<Word>& state) const {
    std::string out;
    JsonWriter writer(out);
    aggregates_.writeJson(state.data(), sketches_, writer);
    return out;
  }
  std::string merged(std::vector<Word> into, const std::vector<Word>& from) const {
    aggregates_.merge(into.data(), from.data(), sketches_);
    return json(into);
  }

 private:
  std::vector<AggregateSpec> specs_;
  std::vector<int> index_;
  Aggregates aggregates_;
  mutable SketchPool sketches_;  // unused by these aggregates, which hold no sketches
};

TEST(AggregateTest, CountCountsEveryEventIncludingNulls) {
  const OneAggregate count(AggregateKind::kCount);
  EXPECT_EQ(count.json(count.empty()), R"({"x":0})");
  EXPECT_EQ(count.json(count.of({{1, 5}, {2, kNull}, {3, -1}})), R"({"x":3})");
}

TEST(AggregateTest, SumSkipsNullsAndIsNullWithoutInput) {
  const OneAggregate sum(AggregateKind::kSum);
  EXPECT_EQ(sum.json(sum.empty()), R"({"x":null})");
  EXPECT_EQ(sum.json(sum.of({{1, kNull}, {2, kNull}})), R"({"x":null})");
  EXPECT_EQ(sum.json(sum.of({{1, 5400}, {2, kNull}, {3, 0.5}})), R"({"x":5400.5})");
  // A sum of zero is a value, not null; so is a sum of negative zeros (the empty sum is -0).
  EXPECT_EQ(sum.json(sum.of({{1, 2}, {2, -2}})), R"({"x":0})");
  EXPECT_EQ(sum.json(sum.of({{1, -0.0}})), R"({"x":0})");
  EXPECT_EQ(sum.json(sum.of({{1, -0.0}, {2, -0.0}, {3, kNull}})), R"({"x":0})");
  EXPECT_EQ(sum.merged(sum.empty(), sum.empty()), R"({"x":null})");
  EXPECT_EQ(sum.merged(sum.empty(), sum.of({{1, -0.0}})), R"({"x":0})");
  EXPECT_EQ(sum.merged(sum.of({{1, -0.0}}), sum.empty()), R"({"x":0})");
}

// A sum is one word whose -0 means empty; its snapshot keeps avg's [sum][n] form, so an empty sum
// and a sum of zeros come back as they were, and snapshots written before sums were one word
// ([sum][n] with n the count of values) restore.
TEST(AggregateTest, SumSnapshotsKeepEmptyApartFromZero) {
  const std::vector<AggregateSpec> specs = {{"x", AggregateKind::kSum, "v"}};
  const std::vector<int> index = {0};
  const Aggregates aggregates(specs, index);
  SketchPool sketches(aggregates);
  const auto roundTrip = [&](const std::vector<double>& values) {
    std::vector<Word> state(aggregates.words());
    aggregates.init(state.data());
    for (const double v : values) aggregates.update(state.data(), 1, &v, sketches);
    SnapshotWriter out;
    aggregates.snapshotState(state.data(), sketches, out);
    std::vector<Word> back(aggregates.words());
    SnapshotReader in(out.bytes());
    EXPECT_TRUE(aggregates.restoreState(back.data(), sketches, in));
    std::string json;
    JsonWriter writer(json);
    aggregates.writeJson(back.data(), sketches, writer);
    return json;
  };
  EXPECT_EQ(roundTrip({}), R"({"x":null})");
  EXPECT_EQ(roundTrip({kNull}), R"({"x":null})");
  EXPECT_EQ(roundTrip({-0.0}), R"({"x":0})");
  EXPECT_EQ(roundTrip({1.5, 2}), R"({"x":3.5})");

  const auto restored = [&](double sum, std::int64_t n) {
    SnapshotWriter old;
    old.put<double>(sum);
    old.put<std::int64_t>(n);
    std::vector<Word> back(aggregates.words());
    SnapshotReader in(old.bytes());
    if (!aggregates.restoreState(back.data(), sketches, in)) return std::string("refused");
    std::string json;
    JsonWriter writer(json);
    aggregates.writeJson(back.data(), sketches, writer);
    return json;
  };
  EXPECT_EQ(restored(0.0, 0), R"({"x":null})");
  EXPECT_EQ(restored(0.0, 3), R"({"x":0})");
  EXPECT_EQ(restored(-0.0, 3), R"({"x":0})");
  EXPECT_EQ(restored(12.25, 7), R"({"x":12.25})");
  EXPECT_EQ(restored(1.0, -1), "refused");
}

// Sample statistics (n - 1): 2,4,4,4,5,5,7,9 has mean 5 and squared deviations summing to 32.
TEST(AggregateTest, VarianceAndStddevAreSampleStatisticsNullBelowTwoValues) {
  const OneAggregate variance(AggregateKind::kVariance);
  const OneAggregate stddev(AggregateKind::kStddev);
  EXPECT_EQ(variance.json(variance.empty()), R"({"x":null})");
  EXPECT_EQ(variance.json(variance.of({{1, 3}, {2, kNull}})), R"({"x":null})");
  EXPECT_EQ(variance.json(variance.of({{1, 3}, {2, 3}})), R"({"x":0})");
  const auto values = {std::pair<std::int64_t, double>{1, 2},
                       {2, 4},
                       {3, 4},
                       {4, 4},
                       {5, 5},
                       {6, 5},
                       {7, kNull},
                       {8, 7},
                       {9, 9}};
  std::vector<Word> state = variance.of(values);
  double v = 0;
  EXPECT_EQ(std::sscanf(variance.json(state).c_str(), R"({"x":%lf})", &v), 1);
  EXPECT_NEAR(v, 32.0 / 7, 1e-12);
  double sd = 0;
  EXPECT_EQ(std::sscanf(stddev.json(stddev.of(values)).c_str(), R"({"x":%lf})", &sd), 1);
  EXPECT_NEAR(sd, std::sqrt(32.0 / 7), 1e-12);
}

// Welford's update keeps a variance of 30 exact around 1e9, where the sum of squares (1e18)
// has no bits left for it; and Chan's merge of two halves gives the same as one pass.
TEST(AggregateTest, VarianceIsStableFarFromZeroAndMergesExactly) {
  const OneAggregate variance(AggregateKind::kVariance);
  EXPECT_EQ(variance.json(variance.of({{1, 1e9 + 4}, {2, 1e9 + 7}, {3, 1e9 + 13}, {4, 1e9 + 16}})),
            R"({"x":30})");
  EXPECT_EQ(variance.merged(variance.of({{1, 1e9 + 4}, {2, 1e9 + 7}}),
                            variance.of({{3, 1e9 + 13}, {4, 1e9 + 16}})),
            R"({"x":30})");
  // Merging with an empty side on either hand changes nothing.
  EXPECT_EQ(variance.merged(variance.empty(), variance.of({{1, 1}, {2, 3}})), R"({"x":2})");
  EXPECT_EQ(variance.merged(variance.of({{1, 1}, {2, 3}}), variance.empty()), R"({"x":2})");
  EXPECT_EQ(variance.merged(variance.of({{1, 1}}), variance.of({{2, 3}})), R"({"x":2})");
}

// count_if's value is its condition, computed by the router: 1 true, 0 false, NaN null.
TEST(AggregateTest, CountIfCountsTheEventsItsConditionHoldsFor) {
  const OneAggregate count_if(AggregateKind::kCountIf);
  EXPECT_EQ(count_if.json(count_if.empty()), R"({"x":0})");
  EXPECT_EQ(count_if.json(count_if.of({{1, 1}, {2, 0}, {3, kNull}, {4, 1}})), R"({"x":2})");
  EXPECT_EQ(count_if.merged(count_if.of({{1, 1}}), count_if.of({{2, 1}, {3, 0}})), R"({"x":2})");
}

TEST(AggregateTest, MinAndMaxSkipNulls) {
  const OneAggregate min(AggregateKind::kMin);
  const OneAggregate max(AggregateKind::kMax);
  EXPECT_EQ(min.json(min.empty()), R"({"x":null})");
  EXPECT_EQ(max.json(max.empty()), R"({"x":null})");
  EXPECT_EQ(min.json(min.of({{1, kNull}})), R"({"x":null})");
  EXPECT_EQ(min.json(min.of({{1, 3}, {2, kNull}, {3, -7.25}, {4, 10}})), R"({"x":-7.25})");
  EXPECT_EQ(max.json(max.of({{1, -3}, {2, kNull}, {3, -7.25}, {4, -10}})), R"({"x":-3})");
  EXPECT_EQ(min.json(min.of({{1, kNull}, {2, 4}})), R"({"x":4})");
}

TEST(AggregateTest, AvgIsSumOverNonNullCount) {
  const OneAggregate avg(AggregateKind::kAvg);
  EXPECT_EQ(avg.json(avg.empty()), R"({"x":null})");
  EXPECT_EQ(avg.json(avg.of({{1, kNull}})), R"({"x":null})");
  EXPECT_EQ(avg.json(avg.of({{1, 1}, {2, kNull}, {3, 2}})), R"({"x":1.5})");
}

TEST(AggregateTest, FirstTakesTheSmallestTimeAndTheEarliestAddedOnTies) {
  const OneAggregate first(AggregateKind::kFirst);
  EXPECT_EQ(first.json(first.empty()), R"({"x":null})");
  EXPECT_EQ(first.json(first.of({{5, 1}, {3, 2}, {4, 3}})), R"({"x":2})");
  EXPECT_EQ(first.json(first.of({{3, 1}, {3, 2}})), R"({"x":1})");
  // A null value is skipped, even at the smallest time.
  EXPECT_EQ(first.json(first.of({{5, 1}, {1, kNull}})), R"({"x":1})");
  EXPECT_EQ(first.json(first.of({{1, kNull}, {5, 1}})), R"({"x":1})");
  EXPECT_EQ(first.json(first.of({{1, kNull}})), R"({"x":null})");
  // Extreme times are times like any other.
  const std::int64_t max = std::numeric_limits<std::int64_t>::max();
  EXPECT_EQ(first.json(first.of({{max, 7}})), R"({"x":7})");
}

TEST(AggregateTest, LastTakesTheLargestTimeAndTheLatestAddedOnTies) {
  const OneAggregate last(AggregateKind::kLast);
  EXPECT_EQ(last.json(last.empty()), R"({"x":null})");
  EXPECT_EQ(last.json(last.of({{3, 1}, {5, 2}, {4, 3}})), R"({"x":2})");
  EXPECT_EQ(last.json(last.of({{3, 1}, {3, 2}})), R"({"x":2})");
  EXPECT_EQ(last.json(last.of({{1, 1}, {9, kNull}})), R"({"x":1})");
  const std::int64_t min = std::numeric_limits<std::int64_t>::min();
  EXPECT_EQ(last.json(last.of({{min, 7}})), R"({"x":7})");
}

TEST(AggregateTest, MergeCombinesStatesOfDisjointRanges) {
  const OneAggregate count(AggregateKind::kCount);
  EXPECT_EQ(count.merged(count.of({{1, 1}, {2, kNull}}), count.of({{3, 1}})), R"({"x":3})");
  const OneAggregate sum(AggregateKind::kSum);
  EXPECT_EQ(sum.merged(sum.of({{1, 1.5}}), sum.of({{3, 2}})), R"({"x":3.5})");
  EXPECT_EQ(sum.merged(sum.empty(), sum.of({{3, 2}})), R"({"x":2})");
  EXPECT_EQ(sum.merged(sum.of({{3, 2}}), sum.empty()), R"({"x":2})");
  EXPECT_EQ(sum.merged(sum.empty(), sum.of({{3, kNull}})), R"({"x":null})");
  const OneAggregate min(AggregateKind::kMin);
  EXPECT_EQ(min.merged(min.of({{1, 4}}), min.of({{3, 2}})), R"({"x":2})");
  EXPECT_EQ(min.merged(min.of({{1, 2}}), min.empty()), R"({"x":2})");
  const OneAggregate max(AggregateKind::kMax);
  EXPECT_EQ(max.merged(max.of({{1, 4}}), max.of({{3, 2}})), R"({"x":4})");
  EXPECT_EQ(max.merged(max.empty(), max.empty()), R"({"x":null})");
  const OneAggregate avg(AggregateKind::kAvg);
  EXPECT_EQ(avg.merged(avg.of({{1, 1}}), avg.of({{3, 2}, {4, 6}})), R"({"x":3})");
}

TEST(AggregateTest, MergeOfFirstAndLastComparesTimesAndTakesFromAsLaterOnTies) {
  const OneAggregate first(AggregateKind::kFirst);
  EXPECT_EQ(first.merged(first.of({{5, 1}}), first.of({{3, 2}})), R"({"x":2})");
  EXPECT_EQ(first.merged(first.of({{3, 1}}), first.of({{5, 2}})), R"({"x":1})");
  EXPECT_EQ(first.merged(first.of({{3, 1}}), first.of({{3, 2}})), R"({"x":1})");
  EXPECT_EQ(first.merged(first.empty(), first.of({{3, 2}})), R"({"x":2})");
  EXPECT_EQ(first.merged(first.of({{3, 1}}), first.empty()), R"({"x":1})");
  EXPECT_EQ(first.merged(first.of({{3, kNull}}), first.of({{9, 2}})), R"({"x":2})");

  const OneAggregate last(AggregateKind::kLast);
  EXPECT_EQ(last.merged(last.of({{5, 1}}), last.of({{3, 2}})), R"({"x":1})");
  EXPECT_EQ(last.merged(last.of({{3, 1}}), last.of({{5, 2}})), R"({"x":2})");
  EXPECT_EQ(last.merged(last.of({{3, 1}}), last.of({{3, 2}})), R"({"x":2})");
  EXPECT_EQ(last.merged(last.empty(), last.of({{3, 2}})), R"({"x":2})");
  EXPECT_EQ(last.merged(last.of({{3, 1}}), last.empty()), R"({"x":1})");
  EXPECT_EQ(last.merged(last.of({{3, 1}}), last.of({{9, kNull}})), R"({"x":1})");
}

TEST(AggregateTest, JsonFollowsConfigOrderWithEscapedNames) {
  const std::vector<AggregateSpec> specs = {
      {"trades", AggregateKind::kCount, ""}, {"volume", AggregateKind::kSum, "qty"},
      {"low", AggregateKind::kMin, "price"}, {"say \"hi\"\n", AggregateKind::kLast, "price"},
      {"avg", AggregateKind::kAvg, "qty"},   {"first", AggregateKind::kFirst, "qty"},
      {"high", AggregateKind::kMax, "price"}};
  const std::vector<int> index = {-1, 0, 1, 1, 0, 0, 1};
  const Aggregates aggregates(specs, index);
  EXPECT_EQ(aggregates.words(), 1u + 1 + 1 + 2 + 2 + 2 + 1);

  SketchPool sketches(aggregates);
  std::vector<Word> state(aggregates.words());
  aggregates.init(state.data());
  const double e1[] = {100, kNull};
  const double e2[] = {20.5, kNull};
  aggregates.update(state.data(), 2, e1, sketches);
  aggregates.update(state.data(), 1, e2, sketches);
  std::string out;
  JsonWriter writer(out);
  aggregates.writeJson(state.data(), sketches, writer);
  EXPECT_EQ(out, R"({"trades":2,"volume":120.5,"low":null,"say \"hi\"\n":null,"avg":60.25,)"
                 R"("first":20.5,"high":null})");
}

// Issue 16, part 4: integral values print as integers (47000000, not 4.7e+07), the same field
// the same way whatever its magnitude below 1e21; fractions in plain notation from 1e-6.
TEST(AggregateTest, NumbersPrintAsUsersReadThem) {
  const OneAggregate sum(AggregateKind::kSum);
  EXPECT_EQ(sum.json(sum.of({{1, 20'000'000}, {2, 27'000'000}})), R"({"x":47000000})");
  EXPECT_EQ(sum.json(sum.of({{1, 1.7e9}})), R"({"x":1700000000})");
  EXPECT_EQ(sum.json(sum.of({{1, 1'700'000'000}, {2, 12}})), R"({"x":1700000012})");
  EXPECT_EQ(sum.json(sum.of({{1, 6e20}, {2, 6e20}})), R"({"x":1.2e+21})");
  const OneAggregate max(AggregateKind::kMax);
  EXPECT_EQ(max.json(max.of({{1, 1e20}})), R"({"x":100000000000000000000})");
  EXPECT_EQ(max.json(max.of({{1, -0.0}})), R"({"x":0})");
  const OneAggregate avg(AggregateKind::kAvg);
  EXPECT_EQ(avg.json(avg.of({{1, 0.000001}, {2, 0.000002}})), R"({"x":0.0000015})");
  EXPECT_EQ(avg.json(avg.of({{1, 1e-7}})), R"({"x":1e-7})");
}

// Issue 16, part 5, literally: p95 of {10, 12} is 11.9 and of {20, 22, 24, 30} 29.1, as numpy
// and pandas say; median is p50.
TEST(AggregateTest, QuantilesOfAFewValuesAreExactInThePayload) {
  std::vector<AggregateSpec> specs = {{"p95", AggregateKind::kQuantile, "v"},
                                      {"median", AggregateKind::kQuantile, "v"},
                                      {"p99", AggregateKind::kQuantile, "v"}};
  specs[0].quantile = 0.95;
  specs[1].quantile = 0.5;
  specs[2].quantile = 0.99;
  const std::vector<int> index = {0, 0, 0};
  const Aggregates aggregates(specs, index);
  SketchPool sketches(aggregates);
  const auto json = [&](std::initializer_list<double> values) {
    std::vector<Word> state(aggregates.words());
    aggregates.init(state.data());
    for (const double v : values) aggregates.update(state.data(), 1, &v, sketches);
    std::string out;
    JsonWriter writer(out);
    aggregates.writeJson(state.data(), sketches, writer);
    aggregates.release(state.data(), sketches);
    return out;
  };
  EXPECT_EQ(json({10, 12}), R"({"p95":11.9,"median":11,"p99":11.98})");
  EXPECT_EQ(json({20, 22, 24, 30}), R"({"p95":29.1,"median":23,"p99":29.82})");
  EXPECT_EQ(json({}), R"({"p95":null,"median":null,"p99":null})");
}

}  // namespace
}  // namespace rivulet::pipeline

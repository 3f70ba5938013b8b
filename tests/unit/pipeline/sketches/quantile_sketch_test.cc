// QuantileSketch: empty and single-value answers, NaN and infinities, exact mode against a
// brute-force numpy 'linear' reference for every count up to 64 (and the issue's examples), the
// change to buckets past 64, signs and zero, the error bound at every rank, merges equal to one
// sketch, collapsing, clear and reuse, bounded memory.
#include "pipeline/sketches/quantile_sketch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <new>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/unit/pipeline/allocation_counter.h"

namespace rivulet::pipeline {
namespace {

constexpr double kAlpha = QuantileSketch::kDefaultRelativeAccuracy;
// One std::log's rounding may put a value on a bucket boundary into its neighbour.
constexpr double kRounding = 1e-12;

// The lower q-quantile of `sorted`, with the rank convention of the sketch past kExactLimit.
double exactQuantile(const std::vector<double>& sorted, double q) {
  return sorted[static_cast<std::size_t>(q * static_cast<double>(sorted.size() - 1))];
}

// Checks quantile(q) for q = r / (n - 1), every rank r, against the documented bound: relative
// above collapsedMagnitude() (0 when nothing collapsed), absolute below.
void expectWithinBoundAtEveryRank(const QuantileSketch& sketch, std::vector<double> values) {
  const double collapsed = sketch.collapsedMagnitude();
  const double alpha = sketch.relativeAccuracy();
  std::sort(values.begin(), values.end());
  ASSERT_EQ(sketch.count(), values.size());
  const double n1 = static_cast<double>(values.size() - 1);
  for (std::size_t r = 0; r < values.size(); ++r) {
    const double q = values.size() == 1 ? 0.0 : static_cast<double>(r) / n1;
    const double exact = exactQuantile(values, q);
    const double got = sketch.quantile(q);
    const double bound =
        std::fabs(exact) > collapsed ? (alpha + kRounding) * std::fabs(exact) : collapsed;
    EXPECT_LE(std::fabs(got - exact), bound) << "q=" << q << " exact=" << exact << " got=" << got;
  }
}

// Splits `values` in two at every point and merges the halves both ways: a merge of at most 64
// values stays exact and equals one sketch fed them all.
void expectMergeEqualsOneSketchForAllSplits(const std::vector<double>& values) {
  QuantileSketch whole;
  for (double v : values) whole.add(v);
  for (std::size_t split = 0; split <= values.size(); ++split) {
    QuantileSketch a;
    QuantileSketch b;
    for (std::size_t i = 0; i < values.size(); ++i) (i < split ? a : b).add(values[i]);
    QuantileSketch ab = a;
    ab.merge(b);
    b.merge(a);
    EXPECT_TRUE(ab == whole) << split;
    EXPECT_TRUE(b == whole) << split;
    EXPECT_EQ(ab.exact(), whole.exact());
    for (double q : {0.0, 0.3, 0.5, 0.95, 1.0}) EXPECT_EQ(ab.quantile(q), whole.quantile(q));
  }
}

TEST(QuantileSketchTest, EmptySketchAnswersNaNAndOwnsNoBuffer) {
  QuantileSketch sketch;
  EXPECT_EQ(sketch.count(), 0u);
  EXPECT_TRUE(std::isnan(sketch.quantile(0.5)));
  EXPECT_TRUE(std::isnan(sketch.quantile(0)));
  EXPECT_TRUE(std::isnan(sketch.min()));
  EXPECT_TRUE(std::isnan(sketch.max()));
  EXPECT_EQ(sketch.bucketSpan(), 0u);
  EXPECT_EQ(sketch.collapsedMagnitude(), 0.0);
  EXPECT_EQ(sketch.memoryBytes(), sizeof(QuantileSketch));
}

TEST(QuantileSketchTest, SingleValueIsEveryQuantileAndSmall) {
  QuantileSketch sketch;
  EXPECT_TRUE(sketch.add(42.5));
  EXPECT_EQ(sketch.count(), 1u);
  for (double q : {0.0, 0.01, 0.5, 0.99, 1.0}) EXPECT_EQ(sketch.quantile(q), 42.5) << q;
  EXPECT_TRUE(sketch.exact());
  EXPECT_EQ(sketch.bucketSpan(), 0u);
  // An array of 4 values, not 64, and no bucket window.
  EXPECT_EQ(sketch.memoryBytes(), sizeof(QuantileSketch) + 4 * sizeof(double));
}

// numpy.quantile(values, q) with its default method 'linear', as numpy computes it in doubles
// (virtual index (n - 1) q, then its two-sided lerp).
double numpyLinear(const std::vector<double>& sorted, double q) {
  const double h = static_cast<double>(sorted.size() - 1) * q;
  const double below = std::floor(h);
  const auto r = static_cast<std::size_t>(below);
  const double t = h - below;
  const double a = sorted[r];
  const double b = sorted[std::min(r + 1, sorted.size() - 1)];
  const double diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

TEST(QuantileSketchTest, IssueExamplesAreExact) {
  QuantileSketch two;
  for (double v : {12.0, 10.0}) two.add(v);
  EXPECT_EQ(two.quantile(0.95), 11.9);
  QuantileSketch four;
  for (double v : {30.0, 20.0, 24.0, 22.0}) four.add(v);
  EXPECT_EQ(four.quantile(0.95), 29.1);  // numpy's doubles give 29.099999999999998
  EXPECT_EQ(four.quantile(0.5), 23);
  EXPECT_EQ(four.quantile(0), 20);
  EXPECT_EQ(four.quantile(1), 30);
}

// Every count from 1 to 64, values of many kinds (repeats, both signs, zeros, 300 decades), many
// q: the answer is numpy's up to numpy's own rounding, and exactly a value when h is a rank.
TEST(QuantileSketchTest, ExactModeIsNumpyLinearForEveryCountUpTo64) {
  std::mt19937_64 rng(23);
  std::uniform_real_distribution<double> unit(0, 1);
  std::uniform_int_distribution<int> small(-5, 5);
  std::uniform_int_distribution<int> exponent(-300, 300);
  std::vector<double> qs = {0, 0.5, 0.9, 0.95, 0.99, 0.999, 1, 0.25, 0.75, 1e-9, 1 - 1e-12};
  for (int i = 0; i < 40; ++i) qs.push_back(unit(rng));
  int checked = 0;
  for (std::size_t n = 1; n <= QuantileSketch::kExactLimit; ++n) {
    for (int kind = 0; kind < 4; ++kind) {
      std::vector<double> values;
      for (std::size_t i = 0; i < n; ++i) {
        switch (kind) {
          case 0:
            values.push_back(small(rng));  // many repeats
            break;
          case 1:
            values.push_back(1000 * (unit(rng) - 0.3));
            break;
          case 2:
            values.push_back((i % 2 ? -1 : 1) * std::pow(10.0, exponent(rng)));
            break;
          default:
            values.push_back(i % 5 == 0 ? 0.0 : std::ldexp(unit(rng), exponent(rng) / 3));
        }
      }
      QuantileSketch sketch;
      for (double v : values) ASSERT_TRUE(sketch.add(v));
      ASSERT_TRUE(sketch.exact());
      EXPECT_EQ(sketch.bucketSpan(), 0u);
      std::sort(values.begin(), values.end());
      for (double q : qs) {
        const double want = numpyLinear(values, q);
        const double got = sketch.quantile(q);
        const double h = static_cast<double>(n - 1) * q;
        const auto r = static_cast<std::size_t>(h);
        const double scale =
            std::max(std::fabs(values[r]), std::fabs(values[std::min(r + 1, n - 1)]));
        if (h == std::floor(h)) {
          EXPECT_EQ(got, values[r]) << "n=" << n << " q=" << q;
        } else {
          EXPECT_LE(std::fabs(got - want), 1e-13 * scale) << "n=" << n << " q=" << q;
        }
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 64 * 4 * static_cast<int>(qs.size()));
}

// Integers and percentiles (q = k / 100), as latencies in ms are: the answer is the double
// nearest the exact decimal, so it prints as that decimal (29.1, not 29.099999999999998).
TEST(QuantileSketchTest, PercentilesOfIntegersAreTheNearestDouble) {
  std::mt19937_64 rng(29);
  std::uniform_int_distribution<long long> value(-2000, 5000);
  for (int round = 0; round < 400; ++round) {
    const std::size_t n = 1 + round % QuantileSketch::kExactLimit;
    std::vector<long long> values;
    QuantileSketch sketch;
    for (std::size_t i = 0; i < n; ++i) {
      values.push_back(value(rng));
      sketch.add(static_cast<double>(values.back()));
    }
    std::sort(values.begin(), values.end());
    for (long long k = 0; k <= 100; ++k) {
      // h = (n - 1) k / 100; the answer is (100 a + (b - a) (h100 % 100)) / 100, in decimal.
      const long long h100 = static_cast<long long>(n - 1) * k;
      const long long a = values[h100 / 100];
      const long long b = values[std::min<std::size_t>(h100 / 100 + 1, n - 1)];
      const long long hundredths = 100 * a + (b - a) * (h100 % 100);
      const std::string decimal = std::to_string(hundredths) + "e-2";
      ASSERT_EQ(sketch.quantile(static_cast<double>(k) / 100),
                std::strtod(decimal.c_str(), nullptr))
          << "n=" << n << " k=" << k << " want " << decimal;
    }
  }
}

// Past 64 values the buckets answer, within the bound of the lower quantile, from the 65th on.
TEST(QuantileSketchTest, BucketsTakeOverPast64WithinTheBound) {
  std::mt19937_64 rng(31);
  std::lognormal_distribution<double> dist(3, 1);
  std::vector<double> values;
  QuantileSketch sketch;
  for (std::size_t n = 1; n <= 300; ++n) {
    values.push_back(n % 7 == 0 ? -dist(rng) : dist(rng));
    sketch.add(values.back());
    ASSERT_EQ(sketch.exact(), n <= QuantileSketch::kExactLimit) << n;
    ASSERT_EQ(sketch.bucketSpan() > 0, n > QuantileSketch::kExactLimit) << n;
    if (n > QuantileSketch::kExactLimit) expectWithinBoundAtEveryRank(sketch, values);
  }
  // The same values merged from small exact sketches give the same buckets.
  QuantileSketch merged;
  for (std::size_t i = 0; i < values.size(); i += 10) {
    QuantileSketch part;
    for (std::size_t j = i; j < std::min(values.size(), i + 10); ++j) part.add(values[j]);
    merged.merge(part);
  }
  EXPECT_TRUE(merged == sketch);
}

TEST(QuantileSketchTest, ExactMergesStayExactUpTo64) {
  std::mt19937_64 rng(37);
  std::normal_distribution<double> dist(0, 50);
  std::vector<double> values;
  for (int i = 0; i < 64; ++i) values.push_back(std::round(dist(rng)));
  // Parts of 1..64 values: every merge stays exact and equals one sketch fed the union.
  expectMergeEqualsOneSketchForAllSplits(values);
  QuantileSketch whole;
  for (double v : values) whole.add(v);
  QuantileSketch self = whole;
  self.merge(self);  // 128 values: buckets
  EXPECT_FALSE(self.exact());
  EXPECT_EQ(self.count(), 128u);
  QuantileSketch twice = whole;
  const QuantileSketch copy = whole;
  twice.merge(copy);
  EXPECT_TRUE(self == twice);
}

TEST(QuantileSketchTest, IgnoresNaNAndInfinities) {
  QuantileSketch sketch;
  EXPECT_FALSE(sketch.add(std::numeric_limits<double>::quiet_NaN()));
  EXPECT_FALSE(sketch.add(std::numeric_limits<double>::infinity()));
  EXPECT_FALSE(sketch.add(-std::numeric_limits<double>::infinity()));
  EXPECT_EQ(sketch.count(), 0u);
  EXPECT_TRUE(sketch.add(3));
  EXPECT_FALSE(sketch.add(std::numeric_limits<double>::quiet_NaN()));
  EXPECT_EQ(sketch.count(), 1u);
  EXPECT_EQ(sketch.quantile(0.5), 3);
}

TEST(QuantileSketchTest, QOutsideZeroOneIsNaN) {
  QuantileSketch sketch;
  sketch.add(1);
  sketch.add(2);
  EXPECT_TRUE(std::isnan(sketch.quantile(-0.01)));
  EXPECT_TRUE(std::isnan(sketch.quantile(1.01)));
  EXPECT_TRUE(std::isnan(sketch.quantile(std::numeric_limits<double>::quiet_NaN())));
}

TEST(QuantileSketchTest, RejectsBadParameters) {
  EXPECT_THROW(QuantileSketch(0), std::invalid_argument);
  EXPECT_THROW(QuantileSketch(1), std::invalid_argument);
  EXPECT_THROW(QuantileSketch(std::numeric_limits<double>::quiet_NaN()), std::invalid_argument);
  EXPECT_THROW(QuantileSketch(0.01, 0), std::invalid_argument);
}

TEST(QuantileSketchTest, ExtremesAreExact) {
  QuantileSketch sketch;
  for (double v : {7.25, -3.5, 1e6, 0.001, 12.0}) sketch.add(v);
  EXPECT_EQ(sketch.quantile(0), -3.5);
  EXPECT_EQ(sketch.quantile(1), 1e6);
  EXPECT_EQ(sketch.min(), -3.5);
  EXPECT_EQ(sketch.max(), 1e6);
}

TEST(QuantileSketchTest, NegativesZerosAndPositivesAtEveryRank) {
  std::vector<double> values;
  for (int i = -300; i <= 300; ++i) values.push_back(i * 0.37);
  for (int i = 0; i < 50; ++i) values.push_back(0.0);
  values.push_back(-0.0);
  values.push_back(-1e-9);
  values.push_back(1e-9);
  QuantileSketch sketch;
  // Insertion order does not matter; shuffle to show it.
  std::mt19937_64 rng(7);
  std::shuffle(values.begin(), values.end(), rng);
  for (double v : values) ASSERT_TRUE(sketch.add(v));
  expectWithinBoundAtEveryRank(sketch, values);
  EXPECT_EQ(sketch.quantile(0.5), 0.0);
}

TEST(QuantileSketchTest, AllNegative) {
  std::vector<double> values;
  std::mt19937_64 rng(11);
  std::lognormal_distribution<double> dist(0, 3);
  for (int i = 0; i < 2000; ++i) values.push_back(-dist(rng));
  QuantileSketch sketch;
  for (double v : values) sketch.add(v);
  expectWithinBoundAtEveryRank(sketch, values);
}

TEST(QuantileSketchTest, SubnormalsCountAsZero) {
  QuantileSketch sketch;
  const double tiny = std::numeric_limits<double>::denorm_min() * 1000;
  for (int i = 0; i < 10; ++i) sketch.add(tiny);
  EXPECT_EQ(sketch.quantile(0.5), tiny);  // exact while few
  for (int i = 0; i < 90; ++i) sketch.add(tiny);
  sketch.add(-5);
  sketch.add(5);
  EXPECT_EQ(sketch.count(), 102u);
  EXPECT_EQ(sketch.bucketSpan(), 2u);  // -5 and 5; the subnormals are in the zero count
  EXPECT_EQ(sketch.quantile(0.5), 0.0);
}

TEST(QuantileSketchTest, LargestAndSmallestNormalMagnitudes) {
  const double big = std::numeric_limits<double>::max();
  const double small = std::numeric_limits<double>::min();
  const std::vector<double> ten = {big,      -big,      small, -small, big / 3,
                                   -big / 7, small * 5, 1.0,   -1.0,   3e-200};
  // Exact while few: numpy's answer even between -DBL_MAX and DBL_MAX, where b - a overflows.
  QuantileSketch few;
  for (double v : ten) few.add(v);
  EXPECT_EQ(few.quantile(0), -big);
  EXPECT_EQ(few.quantile(1), big);
  EXPECT_EQ(few.quantile(0.5), 3 * small);  // halfway from small to 5 small
  QuantileSketch extremes;
  extremes.add(-big);
  extremes.add(big);
  EXPECT_EQ(extremes.quantile(0.5), 0);
  EXPECT_EQ(extremes.quantile(0.75), big / 2);
  // Seven times over, past the exact limit, for the buckets.
  std::vector<double> values;
  for (int i = 0; i < 7; ++i) values.insert(values.end(), ten.begin(), ten.end());
  // The normal doubles span ~71000 buckets at alpha = 0.01: with room for all of them, the
  // relative bound holds everywhere.
  QuantileSketch roomy(kAlpha, 1 << 17);
  for (double v : values) roomy.add(v);
  EXPECT_EQ(roomy.collapsedMagnitude(), 0.0);
  expectWithinBoundAtEveryRank(roomy, values);
  // With the default 2048 the smallest magnitudes collapse, and only the absolute bound holds
  // for them.
  QuantileSketch sketch;
  for (double v : values) sketch.add(v);
  EXPECT_GT(sketch.collapsedMagnitude(), 1.0);
  expectWithinBoundAtEveryRank(sketch, values);
  for (double q = 0; q <= 1; q += 0.05) EXPECT_TRUE(std::isfinite(sketch.quantile(q)));
}

TEST(QuantileSketchTest, BoundHoldsForOtherAccuracies) {
  for (double alpha : {0.001, 0.05, 0.2}) {
    // At alpha = 0.001, 2048 buckets span only a factor of 60: give them room.
    QuantileSketch sketch(alpha, 1 << 14);
    std::vector<double> values;
    std::mt19937_64 rng(3);
    std::exponential_distribution<double> dist(0.01);
    for (int i = 0; i < 3000; ++i) values.push_back(dist(rng));
    for (double v : values) sketch.add(v);
    EXPECT_EQ(sketch.collapsedMagnitude(), 0.0);
    std::sort(values.begin(), values.end());
    for (double q = 0; q <= 1; q += 0.001) {
      const double exact = exactQuantile(values, q);
      EXPECT_LE(std::fabs(sketch.quantile(q) - exact), (alpha + kRounding) * exact)
          << "alpha=" << alpha << " q=" << q;
    }
  }
}

TEST(QuantileSketchTest, InsertionOrderDoesNotMatter) {
  std::vector<double> values;
  for (int i = 1; i <= 5000; ++i) values.push_back(std::pow(1.003, i) - 20);
  QuantileSketch ascending;
  for (double v : values) ascending.add(v);
  QuantileSketch descending;
  for (auto it = values.rbegin(); it != values.rend(); ++it) descending.add(*it);
  EXPECT_TRUE(ascending == descending);
  descending.add(1);
  EXPECT_FALSE(ascending == descending);
}

// Splits `values` into `parts` sketches at random, merges them in random order, and checks the
// result against one sketch fed everything.
void expectMergeEqualsOneSketch(const std::vector<double>& values, int parts, std::uint64_t seed,
                                std::uint32_t max_buckets) {
  std::mt19937_64 rng(seed);
  std::vector<QuantileSketch> slices(parts, QuantileSketch(kAlpha, max_buckets));
  QuantileSketch whole(kAlpha, max_buckets);
  std::uniform_int_distribution<int> pick(0, parts - 1);
  for (double v : values) {
    slices[pick(rng)].add(v);
    whole.add(v);
  }
  std::shuffle(slices.begin(), slices.end(), rng);
  QuantileSketch merged(kAlpha, max_buckets);
  for (const QuantileSketch& slice : slices) merged.merge(slice);
  EXPECT_TRUE(merged == whole);
  // A tree of merges gives the same sketch too.
  while (slices.size() > 1) {
    slices[0].merge(slices.back());
    slices.pop_back();
    std::shuffle(slices.begin(), slices.end(), rng);
  }
  EXPECT_TRUE(slices[0] == whole);
  for (double q : {0.0, 0.01, 0.25, 0.5, 0.9, 0.99, 1.0}) {
    EXPECT_EQ(merged.quantile(q), whole.quantile(q)) << q;
  }
}

TEST(QuantileSketchTest, MergeEqualsOneSketch) {
  std::vector<double> values;
  std::mt19937_64 rng(5);
  std::normal_distribution<double> dist(3, 100);
  for (int i = 0; i < 20000; ++i) values.push_back(dist(rng));
  for (int i = 0; i < 100; ++i) values.push_back(0);
  expectMergeEqualsOneSketch(values, 7, 1, QuantileSketch::kDefaultMaxBuckets);
}

TEST(QuantileSketchTest, MergeWithCollapsingEqualsOneSketch) {
  // Magnitudes over 40 decades in both signs, 64 buckets per store: both stores collapse, in
  // the slices as well as in the whole.
  std::vector<double> values;
  std::mt19937_64 rng(9);
  std::uniform_real_distribution<double> exponent(-20, 20);
  for (int i = 0; i < 20000; ++i) {
    const double v = std::pow(10.0, exponent(rng));
    values.push_back(i % 3 == 0 ? -v : v);
  }
  expectMergeEqualsOneSketch(values, 9, 2, 64);
}

TEST(QuantileSketchTest, MergeWithEmptyAndIntoEmpty) {
  QuantileSketch a;
  for (double v : {1.0, -2.0, 0.0, 300.0}) a.add(v);
  const QuantileSketch copy = a;
  a.merge(QuantileSketch());
  EXPECT_TRUE(a == copy);
  QuantileSketch empty;
  empty.merge(a);
  EXPECT_TRUE(empty == a);
}

TEST(QuantileSketchTest, MergeOfFarApartStores) {
  // Each part fits in 16 buckets, their union does not: merging folds the low part entirely
  // into the lowest bucket the high part allows, as one sketch fed both would.
  QuantileSketch low(kAlpha, 16);
  QuantileSketch high(kAlpha, 16);
  QuantileSketch whole(kAlpha, 16);
  for (int i = 0; i < 70; ++i) {  // past the exact limit
    low.add(1 + i * 0.001);
    whole.add(1 + i * 0.001);
    high.add(1e6 * (1 + i * 0.001));
    whole.add(1e6 * (1 + i * 0.001));
  }
  EXPECT_EQ(low.collapsedMagnitude(), 0.0);
  EXPECT_EQ(high.collapsedMagnitude(), 0.0);
  QuantileSketch merged = low;
  merged.merge(high);
  EXPECT_TRUE(merged == whole);
  QuantileSketch reversed = high;
  reversed.merge(low);
  EXPECT_TRUE(reversed == whole);
  EXPECT_LE(whole.bucketSpan(), 16u);
  EXPECT_GT(whole.collapsedMagnitude(), 1e5);
  EXPECT_LT(whole.collapsedMagnitude(), 1e6);
  // The high half keeps its accuracy.
  EXPECT_NEAR(whole.quantile(0.75), 1.034e6, kAlpha * 1.034e6);  // rank floor(0.75 * 139) = 104
}

TEST(QuantileSketchTest, CollapseLosesOnlyTheSmallestMagnitudes) {
  constexpr std::uint32_t kBuckets = 128;
  QuantileSketch sketch(kAlpha, kBuckets);
  std::vector<double> values;
  std::mt19937_64 rng(13);
  std::uniform_real_distribution<double> exponent(-6, 6);
  for (int i = 0; i < 50000; ++i) values.push_back(std::pow(10.0, exponent(rng)));
  for (double v : values) sketch.add(v);
  EXPECT_EQ(sketch.bucketSpan(), kBuckets);
  const double collapsed = sketch.collapsedMagnitude();
  // 128 buckets of 2% cover 1.1 decades below 1e6.
  EXPECT_GT(collapsed, 1e4);
  EXPECT_LT(collapsed, 1e5);
  std::sort(values.begin(), values.end());
  int relative = 0;
  int absolute = 0;
  for (double q = 0; q <= 1; q += 0.001) {
    const double exact = exactQuantile(values, q);
    const double got = sketch.quantile(q);
    if (exact > collapsed) {
      ++relative;
      EXPECT_LE(std::fabs(got - exact), (kAlpha + kRounding) * exact) << q;
    } else {
      ++absolute;
      EXPECT_LE(std::fabs(got - exact), collapsed) << q;
    }
  }
  // Log-uniform over 12 decades: about the top 1/12 of the ranks keep the relative bound.
  EXPECT_GT(relative, 50);
  EXPECT_GT(absolute, 800);
}

TEST(QuantileSketchTest, CollapseInTheNegativeStore) {
  constexpr std::uint32_t kBuckets = 64;
  QuantileSketch sketch(kAlpha, kBuckets);
  std::vector<double> values;
  for (int i = 0; i < 4000; ++i) values.push_back(-std::pow(1.01, i));
  for (double v : values) sketch.add(v);
  const double collapsed = sketch.collapsedMagnitude();
  EXPECT_GT(collapsed, 0);
  std::sort(values.begin(), values.end());
  for (double q = 0; q <= 1; q += 0.001) {
    const double exact = exactQuantile(values, q);
    const double got = sketch.quantile(q);
    const double bound =
        std::fabs(exact) > collapsed ? (kAlpha + kRounding) * std::fabs(exact) : collapsed;
    EXPECT_LE(std::fabs(got - exact), bound) << q;
  }
  // The most negative values, the lowest quantiles, are the ones kept.
  EXPECT_NEAR(sketch.quantile(0.01), exactQuantile(values, 0.01),
              kAlpha * std::fabs(exactQuantile(values, 0.01)));
}

TEST(QuantileSketchTest, ClearKeepsCapacityAndReuses) {
  std::vector<double> values;
  for (int i = 0; i < 3000; ++i) values.push_back((i % 2 ? -1 : 1) * std::pow(1.002, i));
  QuantileSketch sketch;
  for (double v : values) sketch.add(v);
  const std::size_t bytes = sketch.memoryBytes();
  const double p90 = sketch.quantile(0.9);
  sketch.clear();
  EXPECT_EQ(sketch.count(), 0u);
  EXPECT_TRUE(std::isnan(sketch.quantile(0.5)));
  EXPECT_EQ(sketch.memoryBytes(), bytes);
  EXPECT_TRUE(sketch == QuantileSketch());
  for (double v : values) sketch.add(v);
  EXPECT_EQ(sketch.memoryBytes(), bytes);  // no window grew: no allocation
  EXPECT_EQ(sketch.quantile(0.9), p90);
  QuantileSketch fresh;
  for (double v : values) fresh.add(v);
  EXPECT_TRUE(sketch == fresh);
}

TEST(QuantileSketchTest, ClearedSketchAcceptsADifferentRange) {
  QuantileSketch sketch;
  for (int i = 1; i < 100; ++i) sketch.add(i);
  sketch.clear();
  std::vector<double> values;
  for (int i = 1; i < 100; ++i) values.push_back(-1e9 * i);
  for (double v : values) sketch.add(v);
  expectWithinBoundAtEveryRank(sketch, values);
}

TEST(QuantileSketchTest, MemoryStaysBounded) {
  QuantileSketch sketch;
  std::mt19937_64 rng(17);
  std::uniform_real_distribution<double> exponent(-300, 300);
  for (int i = 0; i < 200000; ++i) {
    const double v = std::pow(10.0, exponent(rng));
    sketch.add(i % 2 ? v : -v);
  }
  EXPECT_EQ(sketch.bucketSpan(), 2u * QuantileSketch::kDefaultMaxBuckets);
  // The exact array is kept for reuse after clear().
  EXPECT_LE(sketch.memoryBytes(),
            sizeof(QuantileSketch) + QuantileSketch::kExactLimit * sizeof(double) +
                2 * QuantileSketch::kDefaultMaxBuckets * sizeof(std::uint64_t));
  EXPECT_GT(sketch.collapsedMagnitude(), 0);
}

TEST(QuantileSketchTest, CountsLargeWeightsThroughMerges) {
  // Doubling by self-merges: counts beyond 2^32 stay exact.
  QuantileSketch sketch;
  sketch.add(1);
  sketch.add(2);
  for (int i = 0; i < 40; ++i) {
    const QuantileSketch copy = sketch;
    sketch.merge(copy);
  }
  EXPECT_EQ(sketch.count(), std::uint64_t{2} << 40);
  EXPECT_EQ(sketch.quantile(0.25), 1);
  EXPECT_NEAR(sketch.quantile(0.75), 2, 2 * kAlpha);
}

TEST(QuantileSketchTest, WarmSketchAllocatesNothing) {
  std::vector<double> values;
  std::mt19937_64 rng(19);
  std::lognormal_distribution<double> dist(0, 2);
  for (int i = 0; i < 20000; ++i) values.push_back(i % 4 == 0 ? -dist(rng) : dist(rng));
  QuantileSketch sketch;
  for (double v : values) sketch.add(v);  // grows the windows
  sketch.clear();
  const std::size_t before = testutil::allocations.load();
  for (double v : values) sketch.add(v);
  for (auto it = values.rbegin(); it != values.rend(); ++it) sketch.add(*it);
  const std::size_t allocated = testutil::allocations.load() - before;
  EXPECT_EQ(allocated, 0u);
  EXPECT_EQ(sketch.count(), 2 * values.size());
}

}  // namespace
}  // namespace rivulet::pipeline

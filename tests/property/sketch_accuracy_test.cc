// Accuracy of the window sketches against brute-force references, with fixed seeds:
// QuantileSketch against sorting on uniform, exponential, Pareto, lognormal and normal data, whole
// and merged from random slices, and from 1 to 64 values against numpy's linear interpolation;
// DistinctCounter against the true number of distinct values from 10^3 to 10^7, its bias over many
// seeds, its merges, and with the daemon's own hashKey(); TopK against exact counts on Zipf data,
// whole and merged. Each test prints the errors it saw.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "pipeline/model/hash.h"
#include "pipeline/sketches/distinct_counter.h"
#include "pipeline/sketches/quantile_sketch.h"
#include "pipeline/sketches/top_k.h"

namespace rivulet::pipeline {
namespace {

// --- QuantileSketch ---

constexpr double kAlpha = QuantileSketch::kDefaultRelativeAccuracy;
constexpr double kRounding = 1e-12;  // one std::log's rounding at a bucket boundary
constexpr double kQuantiles[] = {0.01, 0.5, 0.9, 0.95, 0.99, 0.999};

struct Distribution {
  const char* name;
  int n;
  std::function<double(std::mt19937_64&)> draw;
};

// The relative error of quantile(q) against the sorted values, with the sketch's rank convention.
double relativeError(const QuantileSketch& sketch, const std::vector<double>& sorted, double q) {
  const double exact = sorted[static_cast<std::size_t>(q * static_cast<double>(sorted.size() - 1))];
  return std::fabs(sketch.quantile(q) - exact) / std::fabs(exact);
}

class QuantileAccuracyTest : public ::testing::TestWithParam<Distribution> {};

TEST_P(QuantileAccuracyTest, RelativeErrorWithinAlphaWholeAndMerged) {
  const Distribution& d = GetParam();
  std::mt19937_64 rng(20240601);
  std::vector<double> values(static_cast<std::size_t>(d.n));
  for (double& v : values) v = d.draw(rng);

  constexpr int kSlices = 23;
  QuantileSketch whole;
  std::vector<QuantileSketch> slices(kSlices);
  std::uniform_int_distribution<int> pick(0, kSlices - 1);
  for (double v : values) {
    ASSERT_TRUE(whole.add(v));
    slices[pick(rng)].add(v);
  }
  std::shuffle(slices.begin(), slices.end(), rng);
  QuantileSketch merged;
  for (const QuantileSketch& slice : slices) merged.merge(slice);
  EXPECT_TRUE(merged == whole);
  EXPECT_EQ(whole.collapsedMagnitude(), 0.0);

  std::sort(values.begin(), values.end());
  double worst = 0;
  for (double q : kQuantiles) {
    const double error = relativeError(whole, values, q);
    EXPECT_LE(error, kAlpha + kRounding) << d.name << " q=" << q;
    EXPECT_LE(relativeError(merged, values, q), kAlpha + kRounding) << d.name << " q=" << q;
    worst = std::max(worst, error);
  }
  // Every thousandth quantile as well.
  double worst_sweep = 0;
  for (int i = 0; i <= 1000; ++i) {
    const double error = relativeError(whole, values, i / 1000.0);
    EXPECT_LE(error, kAlpha + kRounding) << d.name << " q=" << i / 1000.0;
    worst_sweep = std::max(worst_sweep, error);
  }
  std::printf(
      "[ measured ] %s n=%d: max relative error %.5f at the 6 quantiles, %.5f over q=k/1000"
      " (bound %.2f); %zu buckets, %zu bytes\n",
      d.name, d.n, worst, worst_sweep, kAlpha, whole.bucketSpan(), whole.memoryBytes());
}

// numpy.quantile(sorted, q), method 'linear', computed as numpy does in doubles; `scale` is the
// larger magnitude of the two values it interpolates between.
double numpyLinear(const std::vector<double>& sorted, double q, double& scale) {
  const double h = static_cast<double>(sorted.size() - 1) * q;
  const auto r = static_cast<std::size_t>(h);
  const double a = sorted[r];
  const double b = sorted[std::min(r + 1, sorted.size() - 1)];
  const double t = h - static_cast<double>(r);
  scale = std::max(std::fabs(a), std::fabs(b));
  return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
}

// The first 64 values are answered as numpy does (up to its rounding), the next ones within
// alpha of the lower quantile: values added one at a time and merged from slices of 1 to 9.
TEST_P(QuantileAccuracyTest, NumpyLinearUpTo64ThenWithinAlpha) {
  const Distribution& d = GetParam();
  std::mt19937_64 rng(20240917);
  std::uniform_int_distribution<int> slice(1, 9);
  std::vector<double> values;
  QuantileSketch whole;
  QuantileSketch merged;
  QuantileSketch part;
  std::size_t part_size = slice(rng);
  double worst_exact = 0;  // |got - numpy| / scale
  double worst_bucketed = 0;
  // Of the bucketed answers from numpy's, relative: past 64 the rank convention is the lower
  // quantile's, which for small q of data near 0 is far from the interpolation.
  double largest_gap = 0;
  for (std::size_t n = 1; n <= 1000; ++n) {
    values.push_back(d.draw(rng));
    whole.add(values.back());
    part.add(values.back());
    if (part.count() == part_size || n == 1000) {
      merged.merge(part);
      part.clear();
      part_size = slice(rng);
    }
    if (n > 200 && n % 100 != 0) continue;
    std::vector<double> sorted = values;
    std::sort(sorted.begin(), sorted.end());
    const QuantileSketch& sketch = n % 2 == 0 && merged.count() == n ? merged : whole;
    for (int i = 0; i <= 100; ++i) {
      const double q = i / 100.0;
      double scale;
      const double numpy = numpyLinear(sorted, q, scale);
      const double got = sketch.quantile(q);
      if (n <= QuantileSketch::kExactLimit) {
        ASSERT_TRUE(sketch.exact());
        const double error = scale == 0 ? std::fabs(got - numpy) : std::fabs(got - numpy) / scale;
        EXPECT_LE(error, 1e-13) << d.name << " n=" << n << " q=" << q;
        worst_exact = std::max(worst_exact, error);
      } else {
        const double error = relativeError(sketch, sorted, q);
        EXPECT_LE(error, kAlpha + kRounding) << d.name << " n=" << n << " q=" << q;
        worst_bucketed = std::max(worst_bucketed, error);
        largest_gap = std::max(largest_gap, std::fabs(got - numpy) / std::fabs(numpy));
      }
    }
  }
  EXPECT_TRUE(merged == whole);
  std::printf(
      "[ measured ] %s, 1 to 64 values: largest difference from numpy %.2g of the values' "
      "magnitude; 65 to 1000: largest relative error %.5f from the lower quantile, %.5f from "
      "numpy's interpolation\n",
      d.name, worst_exact, worst_bucketed, largest_gap);
}

INSTANTIATE_TEST_SUITE_P(
    Distributions, QuantileAccuracyTest,
    ::testing::Values(
        Distribution{"uniform(0,1000)", 1000000,
                     [](std::mt19937_64& rng) {
                       return std::uniform_real_distribution<double>(0, 1000)(rng);
                     }},
        Distribution{
            "exponential(1)", 300000,
            [](std::mt19937_64& rng) { return std::exponential_distribution<double>(1)(rng); }},
        // Pareto with x_m = 1 and shape 1.1: infinite variance, a tail over many decades.
        Distribution{"pareto(1,1.1)", 300000,
                     [](std::mt19937_64& rng) {
                       const double u = std::uniform_real_distribution<double>(0, 1)(rng);
                       return std::pow(1 - u, -1 / 1.1);
                     }},
        Distribution{
            "lognormal(0,2)", 300000,
            [](std::mt19937_64& rng) { return std::lognormal_distribution<double>(0, 2)(rng); }},
        // Both signs, and magnitudes down to ~1e-4 around the median.
        Distribution{
            "normal(0,100)", 300000,
            [](std::mt19937_64& rng) { return std::normal_distribution<double>(0, 100)(rng); }}),
    [](const ::testing::TestParamInfo<Distribution>& tested) {
      std::string name = tested.param.name;
      std::replace_if(
          name.begin(), name.end(), [](char c) { return !std::isalnum(c); }, '_');
      return name;
    });

// --- DistinctCounter ---

constexpr double kFourStandardErrors = 4 * DistinctCounter::kStandardError;  // 6.5%

std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

double relativeError(std::uint64_t estimate, std::uint64_t n) {
  return (static_cast<double>(estimate) - static_cast<double>(n)) / static_cast<double>(n);
}

TEST(DistinctAccuracyTest, WithinFourStandardErrorsFromThousandToTenMillion) {
  // 10^7 runs once: it is the slow case under ASan.
  for (const std::uint64_t n : {1000u, 10000u, 100000u, 1000000u, 10000000u}) {
    DistinctCounter counter;
    const std::uint64_t base = n << 32;  // a different stream per n
    for (std::uint64_t i = 0; i < n; ++i) counter.add(mix(base + i));
    const double error = relativeError(counter.estimate(), n);
    EXPECT_LE(std::fabs(error), kFourStandardErrors) << n;
    std::printf("[ measured ] distinct n=%llu: estimate %llu, relative error %+.4f\n",
                static_cast<unsigned long long>(n),
                static_cast<unsigned long long>(counter.estimate()), error);
  }
}

TEST(DistinctAccuracyTest, ExactBelowTheThreshold) {
  DistinctCounter counter;
  for (std::uint64_t n = 1; n <= DistinctCounter::kExactLimit; ++n) {
    counter.add(mix(n));
    counter.add(mix((n + 1) / 2));  // a repeat
    ASSERT_EQ(counter.estimate(), n);
  }
}

// The improved estimator has no bias worth the name at any cardinality, including the range
// where the raw HLL estimate needs linear counting (n < 2.5 m) and the switch from exact mode:
// the mean over 25 seeds stays within 4 standard errors of that mean.
TEST(DistinctAccuracyTest, MeanOverSeedsIsUnbiased) {
  constexpr int kSeeds = 25;
  for (const std::uint64_t n : {65u, 200u, 1000u, 3000u, 10000u, 30000u, 100000u}) {
    double sum = 0;
    double worst = 0;
    for (int seed = 0; seed < kSeeds; ++seed) {
      DistinctCounter counter;
      const std::uint64_t base = (static_cast<std::uint64_t>(seed) << 40) | (n << 20);
      for (std::uint64_t i = 0; i < n; ++i) counter.add(mix(base + i));
      const double error = relativeError(counter.estimate(), n);
      sum += error;
      worst = std::max(worst, std::fabs(error));
      EXPECT_LE(std::fabs(error), kFourStandardErrors) << n << " seed " << seed;
    }
    const double mean = sum / kSeeds;
    EXPECT_LE(std::fabs(mean), kFourStandardErrors / std::sqrt(kSeeds)) << n;
    std::printf("[ measured ] distinct n=%llu over %d seeds: mean relative error %+.4f, max %.4f\n",
                static_cast<unsigned long long>(n), kSeeds, mean, worst);
  }
}

TEST(DistinctAccuracyTest, MergedSlicesEqualOneCounter) {
  constexpr int kSlices = 16;
  constexpr std::uint64_t kDistinct = 1000000;
  std::vector<DistinctCounter> slices(kSlices);
  DistinctCounter whole;
  std::mt19937_64 rng(77);
  std::uniform_int_distribution<int> pick(0, kSlices - 1);
  std::uniform_int_distribution<int> copies(1, 3);
  for (std::uint64_t i = 0; i < kDistinct; ++i) {
    const std::uint64_t hash = mix(i);
    whole.add(hash);
    // Each value in one to three slices: slices overlap, as a key's values do across time.
    for (int c = copies(rng); c > 0; --c) slices[pick(rng)].add(hash);
  }
  DistinctCounter merged;
  for (const DistinctCounter& slice : slices) merged.merge(slice);
  EXPECT_TRUE(std::ranges::equal(merged.registers(), whole.registers()));
  EXPECT_EQ(merged.estimate(), whole.estimate());
  EXPECT_LE(std::fabs(relativeError(merged.estimate(), kDistinct)), kFourStandardErrors);
}

// The daemon will hash values with hashKey() over their bytes: check that its bits are mixed
// well enough for HyperLogLog on what it would hash, a value's 8 bytes (integers, prices) and
// symbols' text. Not on text of 1 to 3 bytes: hashKey() folds the length into the byte that also
// holds the first character, so "2" and "12" hash alike (88 collisions among "0".."999"), which
// would make such distinct counts low by up to ~10%.
TEST(DistinctAccuracyTest, WithHashKeyOfValueBytes) {
  const auto hashOf = [](double v) {
    char bytes[sizeof v];
    std::memcpy(bytes, &v, sizeof v);
    return hashKey(std::string_view(bytes, sizeof bytes));
  };
  char buffer[32];
  for (const std::uint64_t n : {1000u, 100000u, 1000000u}) {
    DistinctCounter integers;
    DistinctCounter prices;
    DistinctCounter symbols;
    for (std::uint64_t i = 0; i < n; ++i) {
      integers.add(hashOf(static_cast<double>(i)));
      prices.add(hashOf(100 + static_cast<double>(i) * 0.01));
      const int length =
          std::snprintf(buffer, sizeof buffer, "SYM%05llu", static_cast<unsigned long long>(i));
      symbols.add(hashKey(std::string_view(buffer, static_cast<std::size_t>(length))));
    }
    const double integer_error = relativeError(integers.estimate(), n);
    const double price_error = relativeError(prices.estimate(), n);
    const double symbol_error = relativeError(symbols.estimate(), n);
    EXPECT_LE(std::fabs(integer_error), kFourStandardErrors) << n;
    EXPECT_LE(std::fabs(price_error), kFourStandardErrors) << n;
    EXPECT_LE(std::fabs(symbol_error), kFourStandardErrors) << n;
    std::printf(
        "[ measured ] distinct with hashKey n=%llu: integers %+.4f, prices %+.4f, symbols"
        " %+.4f\n",
        static_cast<unsigned long long>(n), integer_error, price_error, symbol_error);
  }
}

// --- TopK ---

// Zipf(s) over `distinct` ranks: rank r (0-based) has weight (r + 1)^-s.
class Zipf {
 public:
  Zipf(int distinct, double s) : cdf_(static_cast<std::size_t>(distinct)) {
    double sum = 0;
    for (int r = 0; r < distinct; ++r) cdf_[r] = sum += std::pow(r + 1, -s);
    for (double& c : cdf_) c /= sum;
  }
  int operator()(std::mt19937_64& rng) const {
    const double u = std::uniform_real_distribution<double>(0, 1)(rng);
    const auto it = std::lower_bound(cdf_.begin(), cdf_.end(), u);
    return static_cast<int>(std::min<std::ptrdiff_t>(it - cdf_.begin(), cdf_.size() - 1));
  }

 private:
  std::vector<double> cdf_;
};

void expectTopTenFound(const TopK& summary, const std::vector<std::string>& names,
                       const std::vector<std::uint64_t>& truth, std::uint64_t n, const char* what) {
  // The true top 10, ties by name like TopK.
  std::vector<int> ranks(truth.size());
  std::iota(ranks.begin(), ranks.end(), 0);
  std::partial_sort(ranks.begin(), ranks.begin() + 10, ranks.end(), [&](int a, int b) {
    return truth[a] != truth[b] ? truth[a] > truth[b] : names[a] < names[b];
  });
  std::set<std::string> reported;
  for (const TopK::Entry& e : summary.top(10)) reported.emplace(e.item);
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(reported.contains(names[ranks[i]])) << what << " misses " << names[ranks[i]];
  }
  // Every reported count within the N / m bound of the truth, over every monitored item.
  std::vector<int> rank_of_name(truth.size());
  const std::uint64_t bound = n / summary.capacity();
  std::uint64_t worst_top10 = 0;
  std::uint64_t worst = 0;
  int i = 0;
  for (const TopK::Entry& e : summary.top(summary.capacity())) {
    const int r = std::stoi(std::string(e.item.substr(5)));  // "item-<rank>"
    ASSERT_GE(e.count, truth[r]) << what << " " << e.item;
    EXPECT_LE(e.count - truth[r], bound) << what << " " << e.item;
    EXPECT_LE(e.count - e.error, truth[r]) << what << " " << e.item;
    worst = std::max(worst, e.count - truth[r]);
    if (i++ < 10) worst_top10 = std::max(worst_top10, e.count - truth[r]);
  }
  std::printf(
      "[ measured ] top-k %s N=%llu m=%zu: top 10 found; overestimate max %llu in the top"
      " 10, %llu over all %zu counters (bound N/m = %llu)\n",
      what, static_cast<unsigned long long>(n), summary.capacity(),
      static_cast<unsigned long long>(worst_top10), static_cast<unsigned long long>(worst),
      summary.size(), static_cast<unsigned long long>(bound));
}

TEST(TopKAccuracyTest, ZipfTopTenFoundWithHundredCounters) {
  constexpr int kDistinct = 10000;
  constexpr std::size_t kCounters = 100;
  constexpr int kSlices = 10;
  const Zipf zipf(kDistinct, 1.1);
  // Names by rank; TopK sees only the bytes.
  std::vector<std::string> names(kDistinct);
  for (int r = 0; r < kDistinct; ++r) names[r] = "item-" + std::to_string(r);
  for (const std::uint64_t n : {100000u, 1000000u}) {
    std::mt19937_64 rng(n);
    std::vector<std::uint64_t> truth(kDistinct);
    TopK whole(kCounters);
    std::vector<TopK> slices(kSlices, TopK(kCounters));
    for (std::uint64_t i = 0; i < n; ++i) {
      const int r = zipf(rng);
      ++truth[r];
      whole.add(names[r]);
      // Consecutive runs of the stream per slice, as time slices are.
      slices[i * kSlices / n].add(names[r]);
    }
    TopK merged(kCounters);
    for (const TopK& slice : slices) merged.merge(slice);
    expectTopTenFound(whole, names, truth, n, "whole");
    expectTopTenFound(merged, names, truth, n, "merged");
  }
}

}  // namespace
}  // namespace rivulet::pipeline

// QuantileSketch: quantile(x, q), median and p50..p999 over a window: one sketch per key per
// slice, merged when a window fires. Exact for up to 64 values, a DDSketch (Masson, Rim, Lee,
// "DDSketch: A Fast and Fully-Mergeable Quantile Sketch with Relative-Error Guarantees", VLDB
// 2019) with logarithmic buckets beyond.
// The details, precisely: docs/architecture.md, "The quantile sketch".
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "pipeline/model/snapshot.h"

namespace rivulet::pipeline {

class QuantileSketch {
 public:
  static constexpr double kDefaultRelativeAccuracy = 0.01;
  static constexpr std::uint32_t kDefaultMaxBuckets = 2048;
  static constexpr std::size_t kExactLimit = 64;

  // relative_accuracy in [1e-6, 1) and max_buckets >= 1, else std::invalid_argument (the config
  // loader is expected to have rejected such values; this only runs when a sketch is built).
  explicit QuantileSketch(double relative_accuracy = kDefaultRelativeAccuracy,
                          std::uint32_t max_buckets = kDefaultMaxBuckets);

  // Counts `value`; false, and nothing counted, for NaN and +-infinity.
  bool add(double value) noexcept;
  // this := this + other, exactly. Both sketches must have the same relative accuracy and
  // maxBuckets() (checked by a debug assert). May allocate, as add() may.
  void merge(const QuantileSketch& other);
  // The q-quantile as defined above; NaN for an empty sketch and for q outside [0, 1] or NaN.
  double quantile(double q) const noexcept;

  // Values counted: every add() that returned true, and those of merged sketches.
  std::uint64_t count() const noexcept { return count_; }
  // Whether the values are kept exactly (count() <= kExactLimit) rather than in buckets.
  bool exact() const noexcept { return count_ <= kExactLimit; }
  // Exact extremes; NaN when empty.
  double min() const noexcept { return count_ == 0 ? kNaN : min_; }
  double max() const noexcept { return count_ == 0 ? kNaN : max_; }
  double relativeAccuracy() const noexcept { return alpha_; }
  std::uint32_t maxBuckets() const noexcept { return max_buckets_; }
  // 0 if no bucket was ever collapsed, else the largest magnitude a collapsed bucket may hold.
  double collapsedMagnitude() const noexcept;
  // Buckets spanned by the two stores, each at most maxBuckets(); 0 in exact mode.
  std::size_t bucketSpan() const noexcept { return negative_.span() + positive_.span(); }

  // Forgets every value and keeps the exact array and the bucket windows.
  void clear() noexcept;
  // Bytes owned: the object, the exact array's capacity and both windows'.
  std::size_t memoryBytes() const noexcept;

  // Checkpoints: the values in exact mode, else the counts by bucket, not the memory layout
  // (quantile_sketch.cc has the encoding). restore() replaces the contents with a snapshot of a
  // sketch of the same parameters; on input that is corrupt or out of range it returns false and
  // leaves the sketch empty.
  void snapshot(SnapshotWriter& out) const;
  bool restore(SnapshotReader& in);

  // Same parameters, same count and extremes, and the same values (exact mode) or the same zero
  // count and count in every bucket, whatever the windows' offsets and capacities: the sketches
  // answer every quantile alike.
  friend bool operator==(const QuantileSketch& a, const QuantileSketch& b) noexcept;

 private:
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

  // The counts of one sign, by bucket index. Invariants: the window counts_ covers bucket indices
  // [offset_, offset_ + counts_.size()); if not empty, [lo_, hi_] is the range of non-zero
  // buckets, inside the window, and hi_ - lo_ < max_buckets; every count outside it is zero.
  class Store {
   public:
    // Counts `n` in bucket `index`, collapsing if needed. Inline: the common case is a bucket
    // already inside the window.
    void add(std::int32_t index, std::uint64_t n, std::uint32_t max_buckets) noexcept {
      const std::size_t pos = static_cast<std::size_t>(static_cast<std::int64_t>(index) - offset_);
      // Inside the window, the span stays within max_buckets: the window is never wider.
      if (pos < counts_.size()) {
        counts_[pos] += n;
        total_ += n;
        lo_ = std::min(lo_, index);
        hi_ = std::max(hi_, index);
        return;
      }
      addOutside(index, n, max_buckets);
    }
    void merge(const Store& other, std::uint32_t max_buckets);
    void clear() noexcept;

    bool empty() const noexcept { return total_ == 0; }
    std::uint64_t total() const noexcept { return total_; }
    std::int32_t lo() const noexcept { return lo_; }
    std::int32_t hi() const noexcept { return hi_; }
    bool collapsed() const noexcept { return collapsed_; }
    std::uint64_t at(std::int32_t index) const noexcept {
      return counts_[static_cast<std::size_t>(index - offset_)];
    }
    std::size_t span() const noexcept {
      return empty() ? 0 : static_cast<std::size_t>(hi_ - lo_) + 1;
    }
    std::size_t capacityBytes() const noexcept {
      return counts_.capacity() * sizeof(std::uint64_t);
    }
    bool sameCounts(const Store& other) const noexcept;
    void snapshot(SnapshotWriter& out) const;
    // Bucket indices outside [min_index, max_index] are out of range.
    bool restore(SnapshotReader& in, std::int32_t min_index, std::int32_t max_index,
                 std::uint32_t max_buckets);

   private:
    static constexpr std::int32_t kEmptyLo = std::numeric_limits<std::int32_t>::max();
    static constexpr std::int32_t kEmptyHi = std::numeric_limits<std::int32_t>::min();
    static constexpr std::size_t kInitialBuckets = 8;

    void addOutside(std::int32_t index, std::uint64_t n, std::uint32_t max_buckets) noexcept;
    // Folds every bucket below `floor` into `floor` (lo_ < floor).
    void collapseBelow(std::int32_t floor, std::uint32_t max_buckets) noexcept;
    // Moves or widens the window to cover [lo, hi] (hi - lo < max_buckets), keeping the counts.
    void cover(std::int32_t lo, std::int32_t hi, std::uint32_t max_buckets) noexcept;

    std::vector<std::uint64_t> counts_;
    std::int32_t offset_ = 0;
    std::int32_t lo_ = kEmptyLo;
    std::int32_t hi_ = kEmptyHi;
    std::uint64_t total_ = 0;
    bool collapsed_ = false;
  };

  // Values of smaller magnitude count as zero: below it gamma^i loses precision (subnormals).
  static constexpr double kMinIndexable = std::numeric_limits<double>::min();

  // Exact mode: appends `value` (count_ < kExactLimit).
  void addExact(double value) noexcept;
  // Exact mode: the values, ascending.
  const std::vector<double>& sortedValues() const noexcept;
  // Leaves exact mode: counts every kept value in the buckets and empties the array.
  void toBuckets() noexcept;
  // Counts `value` (finite) in the buckets or as zero; count_ and the extremes are the caller's.
  void addToBuckets(double value) noexcept {
    const double magnitude = std::fabs(value);
    if (magnitude < kMinIndexable) {
      ++zero_count_;
    } else {
      (value > 0 ? positive_ : negative_).add(indexOf(magnitude), 1, max_buckets_);
    }
  }
  double exactQuantile(double q) const noexcept;

  std::int32_t indexOf(double magnitude) const noexcept {
    return static_cast<std::int32_t>(std::ceil(std::log(magnitude) * multiplier_));
  }
  // The value bucket `index` answers, gamma^index * 2 / (gamma + 1), capped at DBL_MAX (the top
  // bucket's answer can overflow; the cap only moves it toward the values it holds).
  double valueOf(std::int32_t index) const noexcept;

  double alpha_;
  double log_gamma_;
  double multiplier_;         // 1 / log_gamma_
  double log_answer_factor_;  // log(2 / (gamma + 1))
  std::uint32_t max_buckets_;
  std::uint64_t count_ = 0;
  std::uint64_t zero_count_ = 0;
  double min_ = std::numeric_limits<double>::infinity();
  double max_ = -std::numeric_limits<double>::infinity();
  mutable std::vector<double> values_;  // exact mode: every value; ascending if sorted_
  mutable bool sorted_ = true;
  Store negative_;  // by |x|
  Store positive_;
};

inline bool QuantileSketch::add(double value) noexcept {
  const double magnitude = std::fabs(value);
  // False for NaN as well as for infinities.
  if (!(magnitude <= std::numeric_limits<double>::max())) return false;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  if (count_ < kExactLimit) {
    addExact(value);
  } else {
    if (count_ == kExactLimit) toBuckets();
    addToBuckets(value);
  }
  ++count_;
  return true;
}

}  // namespace rivulet::pipeline

#include "pipeline/sketches/quantile_sketch.h"

#include <bit>
#include <cassert>
#include <cstring>
#include <stdexcept>

namespace rivulet::pipeline {
namespace {

// q as digits / scale with the fewest decimal places (at most 15, so that both are exact
// doubles) that read back as q: 0.95 gives 95 / 100. False for a q with more places.
bool decimalOf(double q, std::uint64_t& digits, std::uint64_t& scale) noexcept {
  scale = 1;
  for (int places = 0; places <= 15; ++places, scale *= 10) {
    const double d = std::round(q * static_cast<double>(scale));
    if (d / static_cast<double>(scale) == q) {
      digits = static_cast<std::uint64_t>(d);
      return true;
    }
  }
  return false;
}

}  // namespace

QuantileSketch::QuantileSketch(double relative_accuracy, std::uint32_t max_buckets)
    : alpha_(relative_accuracy), max_buckets_(max_buckets) {
  // The lower limit keeps every bucket index of a normal double within int32.
  if (!(relative_accuracy >= 1e-6 && relative_accuracy < 1)) {
    throw std::invalid_argument("QuantileSketch: relative accuracy must be in [1e-6, 1)");
  }
  if (max_buckets == 0) throw std::invalid_argument("QuantileSketch: max_buckets must be >= 1");
  // gamma = (1 + alpha) / (1 - alpha) = 1 + 2 alpha / (1 - alpha); log1p keeps the digits of a
  // small alpha.
  log_gamma_ = std::log1p(2 * alpha_ / (1 - alpha_));
  multiplier_ = 1 / log_gamma_;
  log_answer_factor_ = std::log1p(-alpha_);  // 2 / (gamma + 1) = 1 - alpha
}

double QuantileSketch::valueOf(std::int32_t index) const noexcept {
  return std::min(std::exp(index * log_gamma_ + log_answer_factor_),
                  std::numeric_limits<double>::max());
}

void QuantileSketch::addExact(double value) noexcept {
  if (values_.size() == values_.capacity()) {
    // Growth by hand, so the array stops at kExactLimit.
    values_.reserve(std::min(kExactLimit, std::max<std::size_t>(4, 2 * values_.capacity())));
  }
  sorted_ = sorted_ && (values_.empty() || !(value < values_.back()));
  values_.push_back(value);
}

const std::vector<double>& QuantileSketch::sortedValues() const noexcept {
  if (!sorted_) {
    std::sort(values_.begin(), values_.end());
    sorted_ = true;
  }
  return values_;
}

void QuantileSketch::toBuckets() noexcept {
  for (const double value : values_) addToBuckets(value);
  values_.clear();
}

void QuantileSketch::merge(const QuantileSketch& other) {
  assert(other.alpha_ == alpha_ && other.max_buckets_ == max_buckets_);
  if (other.count_ == 0) return;
  if (&other == this) {  // the values of `other` change on the way
    const QuantileSketch copy = other;
    merge(copy);
    return;
  }
  const std::uint64_t count = count_ + other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  if (count <= kExactLimit) {
    values_.reserve(std::min(kExactLimit, std::max<std::size_t>(4, std::bit_ceil(count))));
    values_.insert(values_.end(), other.values_.begin(), other.values_.end());
    sorted_ = false;
    count_ = count;
    return;
  }
  if (exact()) toBuckets();
  if (other.exact()) {
    for (const double value : other.values_) addToBuckets(value);
  } else {
    zero_count_ += other.zero_count_;
    negative_.merge(other.negative_, max_buckets_);
    positive_.merge(other.positive_, max_buckets_);
  }
  count_ = count;
}

double QuantileSketch::quantile(double q) const noexcept {
  if (count_ == 0 || !(q >= 0 && q <= 1)) return kNaN;
  if (exact()) return exactQuantile(q);
  const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(count_ - 1));
  // The extremes are known exactly, even when their buckets were collapsed.
  if (rank == 0) return min_;
  if (rank >= count_ - 1) return max_;
  // Walk the buckets in value order: negatives from the largest magnitude, zero, positives.
  // The value of rank r sits in the first bucket where more than r values have been seen.
  std::uint64_t seen = 0;
  if (!negative_.empty()) {
    for (std::int32_t i = negative_.hi(); i >= negative_.lo(); --i) {
      seen += negative_.at(i);
      if (seen > rank) return std::clamp(-valueOf(i), min_, max_);
    }
  }
  seen += zero_count_;
  if (seen > rank) return std::clamp(0.0, min_, max_);
  if (!positive_.empty()) {
    for (std::int32_t i = positive_.lo(); i <= positive_.hi(); ++i) {
      seen += positive_.at(i);
      if (seen > rank) return std::clamp(valueOf(i), min_, max_);
    }
  }
  return max_;  // not reached: the buckets hold count_ values
}

double QuantileSketch::exactQuantile(double q) const noexcept {
  const std::uint64_t n1 = count_ - 1;
  // h = n1 q = rank + fraction, split exactly in integers for q = digits / scale.
  std::uint64_t rank;
  long double fraction;
  std::uint64_t digits;
  std::uint64_t scale;
  if (decimalOf(q, digits, scale)) {
    const std::uint64_t h = n1 * digits;  // < 2^6 * 10^15 < 2^63
    rank = h / scale;
    fraction = static_cast<long double>(h % scale) / static_cast<long double>(scale);
  } else {
    const double h = static_cast<double>(n1) * q;  // numpy's own virtual index
    rank = static_cast<std::uint64_t>(h);
    fraction = h - static_cast<double>(rank);
  }
  const std::vector<double>& values = sortedValues();
  const double below = values[rank];
  if (fraction == 0) return below;
  const double above = values[rank + 1];
  // In long double (64-bit mantissa on x86) the difference of two doubles cannot overflow, and
  // the answer is rounded to a double once: nearly always the double nearest the exact answer.
  const long double exact =
      static_cast<long double>(below) + (static_cast<long double>(above) - below) * fraction;
  return std::clamp(static_cast<double>(exact), below, above);
}

double QuantileSketch::collapsedMagnitude() const noexcept {
  double magnitude = 0;
  // A collapsed store's lowest bucket holds magnitudes up to gamma^lo.
  for (const Store* store : {&negative_, &positive_}) {
    if (store->collapsed()) {
      magnitude = std::max(magnitude, std::exp(store->lo() * log_gamma_));
    }
  }
  return magnitude;
}

void QuantileSketch::clear() noexcept {
  values_.clear();
  sorted_ = true;
  count_ = 0;
  zero_count_ = 0;
  min_ = std::numeric_limits<double>::infinity();
  max_ = -std::numeric_limits<double>::infinity();
  negative_.clear();
  positive_.clear();
}

std::size_t QuantileSketch::memoryBytes() const noexcept {
  return sizeof(*this) + values_.capacity() * sizeof(double) + negative_.capacityBytes() +
         positive_.capacityBytes();
}

bool operator==(const QuantileSketch& a, const QuantileSketch& b) noexcept {
  if (a.alpha_ != b.alpha_ || a.max_buckets_ != b.max_buckets_ || a.count_ != b.count_ ||
      a.zero_count_ != b.zero_count_) {
    return false;
  }
  if (a.count_ != 0 && (a.min_ != b.min_ || a.max_ != b.max_)) return false;
  if (a.exact()) return a.sortedValues() == b.sortedValues();
  return a.negative_.sameCounts(b.negative_) && a.positive_.sameCounts(b.positive_);
}

// Snapshot encoding (pipeline/model/snapshot.h), with n = count():
//   u64 n; if 0 < n <= kExactLimit (exact mode): the n values, f64 each, ascending;
//   if n > kExactLimit: u64 zero count, f64 min, f64 max, then the negative and the positive store.
//   A store: u8 w | (0x80 if collapsed), w the bytes per count (0: empty store, else 1, 2, 4 or
//   8, the fewest that hold its largest count); if not empty: i32 lo, i32 hi, and the hi - lo + 1
//   counts of buckets lo..hi, w bytes each.
// The window's offset and capacity are left out: they change no answer, and a restored store
// sizes its window to its span.

void QuantileSketch::snapshot(SnapshotWriter& out) const {
  out.put<std::uint64_t>(count_);
  if (count_ == 0) return;
  if (exact()) {
    for (const double value : sortedValues()) out.put<double>(value);
    return;
  }
  out.put<std::uint64_t>(zero_count_);
  out.put<double>(min_);
  out.put<double>(max_);
  negative_.snapshot(out);
  positive_.snapshot(out);
}

bool QuantileSketch::restore(SnapshotReader& in) {
  clear();
  const auto count = in.get<std::uint64_t>();
  if (count == 0) return in.ok();
  if (count <= kExactLimit) {
    bool ok = count * sizeof(double) <= in.remaining();
    if (ok) values_.reserve(std::max<std::size_t>(4, std::bit_ceil(count)));
    for (std::uint64_t i = 0; ok && i < count; ++i) {
      const auto value = in.get<double>();
      // Finite, as add() takes them, and in order.
      ok = in.ok() && std::isfinite(value) && (values_.empty() || !(value < values_.back()));
      values_.push_back(value);
    }
    if (!ok) {
      in.fail();
      clear();
      return false;
    }
    count_ = count;
    min_ = values_.front();
    max_ = values_.back();
    return true;
  }
  const auto zero_count = in.get<std::uint64_t>();
  const auto min = in.get<double>();
  const auto max = in.get<double>();
  // Every bucket a normal double can reach; collapsing only moves counts to higher buckets.
  const std::int32_t min_index = indexOf(kMinIndexable);
  const std::int32_t max_index = indexOf(std::numeric_limits<double>::max());
  bool ok = negative_.restore(in, min_index, max_index, max_buckets_) &&
            positive_.restore(in, min_index, max_index, max_buckets_);
  // The extremes are values that were counted (quantile() clamps to them).
  ok = ok && std::isfinite(min) && std::isfinite(max) && min <= max && zero_count <= count &&
       negative_.total() <= count - zero_count &&
       positive_.total() == count - zero_count - negative_.total();
  if (!ok) {
    in.fail();
    clear();
    return false;
  }
  count_ = count;
  zero_count_ = zero_count;
  min_ = min;
  max_ = max;
  return true;
}

// Store.

void QuantileSketch::Store::snapshot(SnapshotWriter& out) const {
  // Both loops over the contiguous counts [lo_, hi_], which the compiler vectorises.
  const std::size_t n = span();
  const std::uint64_t* counts =
      n == 0 ? nullptr : &counts_[static_cast<std::size_t>(lo_ - offset_)];
  std::uint64_t largest = 0;
  for (std::size_t k = 0; k < n; ++k) largest = std::max(largest, counts[k]);
  const std::uint8_t width = empty()                 ? 0
                             : largest <= 0xff       ? 1
                             : largest <= 0xffff     ? 2
                             : largest <= 0xffffffff ? 4
                                                     : 8;
  out.put<std::uint8_t>(width | (collapsed_ ? 0x80 : 0));
  if (empty()) return;
  out.put<std::int32_t>(lo_);
  out.put<std::int32_t>(hi_);
  // The width chosen once, not per bucket.
  const auto write = [&]<typename T>(T) {
    char* into = out.extend(n * sizeof(T));
    for (std::size_t k = 0; k < n; ++k) {
      const auto count = static_cast<T>(counts[k]);
      std::memcpy(into + k * sizeof(T), &count, sizeof count);
    }
  };
  switch (width) {
    case 1:
      write(std::uint8_t{});
      break;
    case 2:
      write(std::uint16_t{});
      break;
    case 4:
      write(std::uint32_t{});
      break;
    default:
      write(std::uint64_t{});
      break;
  }
}

bool QuantileSketch::Store::restore(SnapshotReader& in, std::int32_t min_index,
                                    std::int32_t max_index, std::uint32_t max_buckets) {
  const auto flags = in.get<std::uint8_t>();
  const std::uint8_t width = flags & 0x7f;
  const bool collapsed = (flags & 0x80) != 0;
  if (width == 0) return in.ok() && !collapsed;  // an empty store was never collapsed
  if (width != 1 && width != 2 && width != 4 && width != 8) return false;
  const auto lo = in.get<std::int32_t>();
  const auto hi = in.get<std::int32_t>();
  // [lo, hi] is the range of non-zero buckets, at most max_buckets wide.
  if (!in.ok() || lo < min_index || hi > max_index || lo > hi ||
      static_cast<std::int64_t>(hi) - lo >= max_buckets ||
      static_cast<std::size_t>(static_cast<std::int64_t>(hi) - lo) >= in.remaining() / width) {
    return false;
  }
  cover(lo, hi, max_buckets);
  // The range is set even when the counts are bad, so that clear() zeroes what was written.
  std::uint64_t total = 0;
  bool ok = true;
  for (std::int32_t i = lo; i <= hi; ++i) {
    std::uint64_t count;
    switch (width) {
      case 1:
        count = in.get<std::uint8_t>();
        break;
      case 2:
        count = in.get<std::uint16_t>();
        break;
      case 4:
        count = in.get<std::uint32_t>();
        break;
      default:
        count = in.get<std::uint64_t>();
        break;
    }
    ok = ok && !__builtin_add_overflow(total, count, &total);
    counts_[static_cast<std::size_t>(i - offset_)] = count;
  }
  lo_ = lo;
  hi_ = hi;
  total_ = ok ? total : std::numeric_limits<std::uint64_t>::max();
  collapsed_ = collapsed;
  return ok && in.ok() && at(lo) != 0 && at(hi) != 0;
}

void QuantileSketch::Store::addOutside(std::int32_t index, std::uint64_t n,
                                       std::uint32_t max_buckets) noexcept {
  if (!empty()) {
    if (index < lo_) {
      // Below the lowest bucket the span allows: count it in that bucket.
      const std::int64_t floor = static_cast<std::int64_t>(hi_) - max_buckets + 1;
      if (index < floor) {
        index = static_cast<std::int32_t>(floor);
        collapsed_ = true;
      }
    } else {
      // Above: the buckets more than max_buckets below it fold into the lowest kept one.
      const std::int64_t floor = static_cast<std::int64_t>(index) - max_buckets + 1;
      if (lo_ < floor) collapseBelow(static_cast<std::int32_t>(floor), max_buckets);
    }
  }
  cover(std::min(lo_, index), std::max(hi_, index), max_buckets);
  counts_[static_cast<std::size_t>(index - offset_)] += n;
  total_ += n;
  lo_ = std::min(lo_, index);
  hi_ = std::max(hi_, index);
}

void QuantileSketch::Store::merge(const Store& other, std::uint32_t max_buckets) {
  if (other.empty()) return;
  // Collapsing is relative to the highest bucket, so the merged store folds exactly the buckets
  // a single store fed every value would have folded.
  const std::int32_t hi = std::max(hi_, other.hi_);
  const std::int64_t floor = static_cast<std::int64_t>(hi) - max_buckets + 1;
  if (!empty() && lo_ < floor) collapseBelow(static_cast<std::int32_t>(floor), max_buckets);
  const auto other_lo = static_cast<std::int32_t>(std::max<std::int64_t>(other.lo_, floor));
  collapsed_ = collapsed_ || other.collapsed_ || other.lo_ < floor;
  cover(std::min(lo_, other_lo), hi, max_buckets);
  for (std::int32_t i = other.lo_; i <= other.hi_; ++i) {
    counts_[static_cast<std::size_t>(std::max(i, other_lo) - offset_)] += other.at(i);
  }
  total_ += other.total_;
  lo_ = std::min(lo_, other_lo);
  hi_ = hi;
}

void QuantileSketch::Store::collapseBelow(std::int32_t floor, std::uint32_t max_buckets) noexcept {
  std::uint64_t folded = 0;
  const std::int32_t end = std::min(hi_, floor - 1);
  for (std::int32_t i = lo_; i <= end; ++i) {
    std::uint64_t& count = counts_[static_cast<std::size_t>(i - offset_)];
    folded += count;
    count = 0;
  }
  collapsed_ = true;
  total_ -= folded;
  if (hi_ < floor) {
    // Every bucket folds, into one above the window's live range: start over from it.
    lo_ = kEmptyLo;
    hi_ = kEmptyHi;
    cover(floor, floor, max_buckets);
    hi_ = floor;
  }
  lo_ = floor;
  counts_[static_cast<std::size_t>(floor - offset_)] += folded;
  total_ += folded;
}

void QuantileSketch::Store::cover(std::int32_t lo, std::int32_t hi,
                                  std::uint32_t max_buckets) noexcept {
  const auto size = static_cast<std::int64_t>(counts_.size());
  if (lo >= offset_ && hi < offset_ + size) return;
  const std::int64_t span = static_cast<std::int64_t>(hi) - lo + 1;
  assert(span <= max_buckets);
  // The live buckets go in the middle of the window, leaving room to grow either way.
  if (span <= size) {
    const auto offset = static_cast<std::int32_t>(lo - (size - span) / 2);
    if (!empty()) {
      std::uint64_t* data = counts_.data();
      const std::size_t live = static_cast<std::size_t>(hi_ - lo_) + 1;
      const auto to = static_cast<std::size_t>(lo_ - offset);
      std::memmove(data + to, data + (lo_ - offset_), live * sizeof(std::uint64_t));
      std::fill(data, data + to, 0);
      std::fill(data + to + live, data + size, 0);
    }
    offset_ = offset;
    return;
  }
  const std::int64_t grown = std::min<std::int64_t>(
      max_buckets, std::max<std::int64_t>(span, std::max<std::int64_t>(2 * size, kInitialBuckets)));
  const auto offset = static_cast<std::int32_t>(lo - (grown - span) / 2);
  std::vector<std::uint64_t> counts(static_cast<std::size_t>(grown), 0);
  if (!empty()) {
    std::copy(counts_.begin() + (lo_ - offset_), counts_.begin() + (hi_ - offset_) + 1,
              counts.begin() + (lo_ - offset));
  }
  counts_.swap(counts);
  offset_ = offset;
}

void QuantileSketch::Store::clear() noexcept {
  if (!empty()) {
    std::fill(counts_.begin() + (lo_ - offset_), counts_.begin() + (hi_ - offset_) + 1, 0);
  }
  lo_ = kEmptyLo;
  hi_ = kEmptyHi;
  total_ = 0;
  collapsed_ = false;
}

bool QuantileSketch::Store::sameCounts(const Store& other) const noexcept {
  if (total_ != other.total_ || collapsed_ != other.collapsed_) return false;
  if (empty()) return true;
  if (lo_ != other.lo_ || hi_ != other.hi_) return false;
  for (std::int32_t i = lo_; i <= hi_; ++i) {
    if (at(i) != other.at(i)) return false;
  }
  return true;
}

}  // namespace rivulet::pipeline

#include "pipeline/sketches/distinct_counter.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

namespace rivulet::pipeline {

namespace {

// The forms of a snapshot (see DistinctCounter::snapshot).
enum : std::uint8_t { kExactForm, kSparseForm, kDenseForm };

// sigma and tau of Ertl (arXiv:1702.01284), the series for the registers still at zero and for
// those at the maximum rank; both loops stop when the sum no longer changes in double.
double sigma(double x) noexcept {
  if (x == 1) return std::numeric_limits<double>::infinity();
  double y = 1;
  double z = x;
  double previous;
  do {
    x *= x;
    previous = z;
    z += x * y;
    y += y;
  } while (z != previous);
  return z;
}

double tau(double x) noexcept {
  if (x == 0 || x == 1) return 0;
  double y = 1;
  double z = 1 - x;
  double previous;
  do {
    x = std::sqrt(x);
    previous = z;
    y *= 0.5;
    z -= (1 - x) * (1 - x) * y;
  } while (z != previous);
  return z / 3;
}

}  // namespace

void DistinctCounter::addExact(std::uint64_t hash) noexcept {
  const auto at = std::lower_bound(hashes_.begin(), hashes_.end(), hash);
  if (at != hashes_.end() && *at == hash) return;
  if (hashes_.size() == kExactLimit) {
    toRegisters();
    setRegister(hash);
    return;
  }
  if (hashes_.size() == hashes_.capacity()) {
    // Growth by hand, so the array stops at kExactLimit.
    const std::ptrdiff_t pos = at - hashes_.begin();
    hashes_.reserve(std::min(kExactLimit, std::max<std::size_t>(4, 2 * hashes_.capacity())));
    hashes_.insert(hashes_.begin() + pos, hash);
    return;
  }
  hashes_.insert(at, hash);
}

void DistinctCounter::toRegisters() noexcept {
  if (registers_.empty()) {
    registers_.resize(kRegisters);
  } else {
    std::fill(registers_.begin(), registers_.end(), std::uint8_t{0});
  }
  dense_ = true;
  for (const std::uint64_t hash : hashes_) setRegister(hash);
  hashes_.clear();
}

void DistinctCounter::merge(const DistinctCounter& other) {
  if (&other == this) return;  // a set united with itself
  if (!other.dense_) {
    for (const std::uint64_t hash : other.hashes_) add(hash);
    return;
  }
  if (!dense_) toRegisters();
  for (std::size_t i = 0; i < kRegisters; ++i) {
    registers_[i] = std::max(registers_[i], other.registers_[i]);
  }
}

std::uint64_t DistinctCounter::estimate() const noexcept {
  if (!dense_) return hashes_.size();
  // Algorithm 6 of Ertl: C[k] registers hold rank k, k = 0..q+1 with q = kRankBits.
  std::array<std::uint32_t, kRankBits + 2> histogram{};
  for (const std::uint8_t rank : registers_) ++histogram[rank];
  constexpr double m = kRegisters;
  double z = m * tau(1 - histogram[kRankBits + 1] / m);
  for (int k = kRankBits; k >= 1; --k) z = 0.5 * (z + histogram[k]);
  z += m * sigma(histogram[0] / m);
  const double alpha_infinity = 1 / (2 * std::log(2.0));
  return static_cast<std::uint64_t>(std::llround(alpha_infinity * m * m / z));
}

// Snapshot encoding (pipeline/model/snapshot.h):
//   u8 0 (exact), u8 n, then the n hashes, u64 each, ascending; or
//   u8 1 (registers, sparse), u16 n, then n times u16 index, u8 rank, by ascending index, for the
//        registers that are not zero; or
//   u8 2 (registers, dense), then all kRegisters ranks, u8 each.
// The sparse form is written when it is the shorter (3 n < kRegisters): a counter just past exact
// mode has a few dozen registers set.
void DistinctCounter::snapshot(SnapshotWriter& out) const {
  if (!dense_) {
    out.put<std::uint8_t>(kExactForm);
    out.put<std::uint8_t>(static_cast<std::uint8_t>(hashes_.size()));
    out.putRaw(hashes_.data(), hashes_.size() * sizeof(std::uint64_t));
    return;
  }
  // Sparse while under a third of the registers are set: [index:u16][rank:u8] each, gathered in
  // one pass with eight registers per load (a counter past its exact limit mostly has whole
  // words of zeros) and written at once; a counter found too full is written dense.
  constexpr std::size_t kMaxSparse = (kRegisters - 1) / 3;
  std::array<std::uint8_t, 3 * kMaxSparse> entries;
  std::size_t set = 0;
  for (std::size_t w = 0; w < kRegisters; w += sizeof(std::uint64_t)) {
    std::uint64_t word;
    std::memcpy(&word, registers_.data() + w, sizeof word);
    while (word != 0) {
      if (set == kMaxSparse) {
        out.put<std::uint8_t>(kDenseForm);
        out.putRaw(registers_.data(), kRegisters);
        return;
      }
      const auto byte = static_cast<std::size_t>(std::countr_zero(word)) / 8;
      word &= ~(std::uint64_t{0xff} << (8 * byte));
      const auto index = static_cast<std::uint16_t>(w + byte);
      std::memcpy(&entries[3 * set], &index, sizeof index);
      entries[3 * set + 2] = registers_[index];
      ++set;
    }
  }
  out.put<std::uint8_t>(kSparseForm);
  out.put<std::uint16_t>(static_cast<std::uint16_t>(set));
  out.putRaw(entries.data(), 3 * set);
}

bool DistinctCounter::restore(SnapshotReader& in) {
  clear();
  const auto form = in.get<std::uint8_t>();
  bool ok;
  if (form == kExactForm) {
    const std::size_t n = in.get<std::uint8_t>();
    ok = in.ok() && n <= kExactLimit && n * sizeof(std::uint64_t) <= in.remaining();
    if (ok) hashes_.reserve(n);
    for (std::size_t i = 0; ok && i < n; ++i) {
      const auto hash = in.get<std::uint64_t>();
      ok = in.ok() && (hashes_.empty() || hashes_.back() < hash);  // sorted and distinct
      hashes_.push_back(hash);
    }
  } else if (form == kSparseForm || form == kDenseForm) {
    if (registers_.empty()) {
      registers_.resize(kRegisters);
    } else {
      std::fill(registers_.begin(), registers_.end(), std::uint8_t{0});
    }
    dense_ = true;
    constexpr std::uint8_t kMaxRank = kRankBits + 1;
    if (form == kSparseForm) {
      const std::size_t n = in.get<std::uint16_t>();
      ok = in.ok() && n <= kRegisters && 3 * n <= in.remaining();
      std::size_t next = 0;  // the lowest index the next entry may have
      for (std::size_t i = 0; ok && i < n; ++i) {
        const std::size_t index = in.get<std::uint16_t>();
        const auto rank = in.get<std::uint8_t>();
        ok = in.ok() && index >= next && index < kRegisters && rank != 0 && rank <= kMaxRank;
        if (ok) registers_[index] = rank;
        next = index + 1;
      }
    } else {
      ok = true;
      for (std::uint8_t& rank : registers_) {
        rank = in.get<std::uint8_t>();
        ok = ok && rank <= kMaxRank;
      }
      ok = ok && in.ok();
    }
  } else {
    ok = false;
  }
  if (!ok) {
    in.fail();
    clear();
  }
  return ok;
}

void DistinctCounter::clear() noexcept {
  dense_ = false;
  hashes_.clear();
}

std::size_t DistinctCounter::memoryBytes() const noexcept {
  return sizeof(*this) + hashes_.capacity() * sizeof(std::uint64_t) + registers_.capacity();
}

}  // namespace rivulet::pipeline

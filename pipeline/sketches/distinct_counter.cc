#include "pipeline/sketches/distinct_counter.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace rivulet::pipeline {

namespace {

// The forms of a snapshot (see DistinctCounter::snapshot).
enum : std::uint8_t { kExactForm, kSparseForm, kDenseForm, kBitmapForm };

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
//   u8 0 (exact), u8 n, then the n hashes, u64 each, ascending; or, with n registers set:
//   u8 1 (registers, sparse), u16 n, then n times u16 index, u8 rank, by ascending index; or
//   u8 3 (registers, bitmap), kRegisters / 8 bytes with bit i (of byte i / 8) set for each
//        register i that is set, then their n ranks, u8 each, by ascending index; or
//   u8 2 (registers, dense), then all kRegisters ranks, u8 each.
// Whichever is the shortest: sparse below 255 registers set (a counter just past exact mode has a
// few dozen), the bitmap below kRegisters - kBitmapBytes, dense above.
namespace {
constexpr std::size_t kBitmapBytes = DistinctCounter::kRegisters / 8;
constexpr std::size_t kMaxSparse = 254;  // 3 + 3 n < 1 + kBitmapBytes + n
constexpr std::size_t kMaxBitmap = DistinctCounter::kRegisters - kBitmapBytes - 1;

// Calls `f(i)` for each bit i set in `bitmap` (kBitmapBytes), in ascending order.
template <typename F>
void forEachSet(const std::uint8_t* bitmap, F&& f) {
  for (std::size_t w = 0; w < kBitmapBytes; w += sizeof(std::uint64_t)) {
    std::uint64_t bits;
    std::memcpy(&bits, bitmap + w, sizeof bits);
    for (; bits != 0; bits &= bits - 1) f(8 * w + static_cast<std::size_t>(std::countr_zero(bits)));
  }
}
}  // namespace

// Sets bit i of `bitmap` (kBitmapBytes) where register i is set; returns how many are not. With
// SSE2, 16 registers per compare, and the zeros counted in the vector (the baseline x86-64 has no
// popcnt instruction: std::popcount per word cost more than the rest of the scan).
std::size_t DistinctCounter::markZeros(std::uint8_t* bitmap) const noexcept {
#if defined(__SSE2__)
  const __m128i zero = _mm_setzero_si128();
  std::size_t zeros = 0;
  constexpr std::size_t kGroups = kRegisters / 16;
  // Per byte lane, the zeros seen: counted in halves, so that a lane stays below 256.
  for (std::size_t half = 0; half < 2; ++half) {
    __m128i lanes = zero;
    for (std::size_t g = half * kGroups / 2; g < (half + 1) * kGroups / 2; ++g) {
      const __m128i group =
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(registers_.data() + 16 * g));
      const __m128i is_zero = _mm_cmpeq_epi8(group, zero);
      const auto set = static_cast<std::uint16_t>(~_mm_movemask_epi8(is_zero));
      std::memcpy(bitmap + 2 * g, &set, sizeof set);
      lanes = _mm_sub_epi8(lanes, is_zero);  // is_zero is -1 in a zero's lane
    }
    const __m128i sums = _mm_sad_epu8(lanes, zero);  // the lanes' sum in each 64-bit half
    zeros += static_cast<std::size_t>(_mm_cvtsi128_si64(sums)) +
             static_cast<std::size_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(sums, sums)));
  }
  return zeros;
#else
  std::size_t zeros = 0;
  for (std::size_t b = 0; b < kBitmapBytes; ++b) {
    std::uint8_t bits = 0;
    for (std::size_t j = 0; j < 8; ++j) {
      const bool set = registers_[8 * b + j] != 0;
      bits = static_cast<std::uint8_t>(bits | set << j);
      zeros += !set;
    }
    bitmap[b] = bits;
  }
  return zeros;
#endif
}

void DistinctCounter::snapshot(SnapshotWriter& out) const {
  if (!dense_) {
    out.put<std::uint8_t>(kExactForm);
    out.put<std::uint8_t>(static_cast<std::uint8_t>(hashes_.size()));
    out.putRaw(hashes_.data(), hashes_.size() * sizeof(std::uint64_t));
    return;
  }
  // Which registers are set: the bitmap, and how many.
  std::array<std::uint8_t, kBitmapBytes> bitmap;
  const std::size_t set = kRegisters - markZeros(bitmap.data());
  if (set > kMaxBitmap) {
    out.put<std::uint8_t>(kDenseForm);
    out.putRaw(registers_.data(), kRegisters);
    return;
  }
  if (set > kMaxSparse) {
    out.put<std::uint8_t>(kBitmapForm);
    out.putRaw(bitmap.data(), kBitmapBytes);
    char* ranks = out.extend(set);
    forEachSet(bitmap.data(), [&](std::size_t i) { *ranks++ = static_cast<char>(registers_[i]); });
    return;
  }
  out.put<std::uint8_t>(kSparseForm);
  out.put<std::uint16_t>(static_cast<std::uint16_t>(set));
  char* entries = out.extend(3 * set);
  forEachSet(bitmap.data(), [&](std::size_t i) {
    const auto index = static_cast<std::uint16_t>(i);
    std::memcpy(entries, &index, sizeof index);
    entries[2] = static_cast<char>(registers_[i]);
    entries += 3;
  });
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
  } else if (form == kSparseForm || form == kDenseForm || form == kBitmapForm) {
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
    } else if (form == kBitmapForm) {
      const std::string_view bitmap = in.getRaw(kBitmapBytes);
      std::size_t n = 0;
      for (const char byte : bitmap)
        n += static_cast<std::size_t>(std::popcount(static_cast<unsigned char>(byte)));
      const std::string_view ranks = in.getRaw(n);
      ok = in.ok();
      std::size_t next = 0;
      if (ok) {
        forEachSet(reinterpret_cast<const std::uint8_t*>(bitmap.data()), [&](std::size_t i) {
          const auto rank = static_cast<std::uint8_t>(ranks[next++]);
          ok = ok && rank != 0 && rank <= kMaxRank;
          registers_[i] = rank;
        });
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

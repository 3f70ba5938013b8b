// DistinctCounter: count_distinct(x) over a window, exact for small sets and a HyperLogLog
// (Flajolet, Fusy, Gandouet, Meunier, 2007) of precision 12 beyond: one counter per key per
// slice, merged when a window fires.
//
// Input is a 64-bit hash of the value, which the caller computes (hashKey() from
// pipeline/model/hash.h over the value's bytes); every bit of it must be well mixed, as the
// register index takes the top 12 bits and the rank the rest.
//
// Exact mode. Up to kExactLimit (64) distinct hashes are kept in a sorted array and estimate()
// is their number: exact, up to 64-bit hash collisions. The 65th distinct hash switches the
// counter to registers for good (until clear()).
//
// Register mode. 4096 one-byte registers, each the largest rank (1 + leading zeros of the 52 bits
// below the index) seen for its index. estimate() is Ertl's improved estimator ("New cardinality
// estimation algorithms for HyperLogLog sketches", arXiv:1702.01284, 2017, algorithm 6), which
// needs neither the small-range (linear counting) switch nor the bias tables of HLL++: it is
// close to unbiased over the whole range (tests/property/sketch_accuracy_test.cc measures it from
// 65 to 10^7 distinct values). Its relative standard error is about 1.04 / sqrt(4096) = 1.625%,
// so nearly all estimates (4 standard errors) are within 6.5%.
//
// Merging is exact: the merged counter equals the counter fed both inputs, mode and registers
// alike, whatever the modes of the two.
//
// Memory. An empty counter owns no buffer. Exact mode holds the hashes in an array grown 4, 8,
// ..., 64 (at most 512 bytes); register mode adds 4096 bytes of registers. add() allocates only
// while the array grows and once at the switch; clear() keeps both buffers, so a cleared counter
// reused for similar data does not allocate. add() is noexcept: an allocation failure there ends
// the process (std::terminate).
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "pipeline/model/snapshot.h"

namespace rivulet::pipeline {

class DistinctCounter {
 public:
  static constexpr int kPrecision = 12;
  static constexpr std::size_t kRegisters = std::size_t{1} << kPrecision;
  static constexpr std::size_t kExactLimit = 64;
  static constexpr double kStandardError = 1.04 / 64;  // 1.04 / sqrt(kRegisters)

  void add(std::uint64_t hash) noexcept;
  // this := this + other. May allocate, as add() may.
  void merge(const DistinctCounter& other);
  // The number of distinct hashes added: exact in exact mode, else the HLL estimate, rounded.
  std::uint64_t estimate() const noexcept;

  bool exact() const noexcept { return !dense_; }
  // The registers in register mode; empty in exact mode.
  std::span<const std::uint8_t> registers() const noexcept {
    return dense_ ? std::span<const std::uint8_t>(registers_) : std::span<const std::uint8_t>();
  }

  // Checkpoints: the mode and the hashes or registers (distinct_counter.cc has the encoding).
  // restore() replaces the contents; on input that is corrupt or out of range it returns false
  // and leaves the counter empty.
  void snapshot(SnapshotWriter& out) const;
  bool restore(SnapshotReader& in);

  // Forgets every hash and keeps the buffers.
  void clear() noexcept;
  // Bytes owned: the object and its buffers' capacity.
  std::size_t memoryBytes() const noexcept;

 private:
  // Bits below the index: a rank is 1..kRankBits + 1.
  static constexpr int kRankBits = 64 - kPrecision;

  void setRegister(std::uint64_t hash) noexcept {
    const std::size_t index = hash >> kRankBits;
    // The sentinel bit caps the rank at kRankBits + 1 when the 52 bits are all zero.
    const std::uint64_t rest = hash << kPrecision | std::uint64_t{1} << (kPrecision - 1);
    const auto rank = static_cast<std::uint8_t>(std::countl_zero(rest) + 1);
    registers_[index] = std::max(registers_[index], rank);
  }
  void addExact(std::uint64_t hash) noexcept;
  // Switches to register mode, folding the exact hashes in.
  void toRegisters() noexcept;

  bool dense_ = false;
  std::vector<std::uint64_t> hashes_;    // exact mode: sorted, distinct, at most kExactLimit
  std::vector<std::uint8_t> registers_;  // kRegisters once first needed; live in register mode
};

inline void DistinctCounter::add(std::uint64_t hash) noexcept {
  if (dense_) {
    setRegister(hash);
  } else {
    addExact(hash);
  }
}

}  // namespace rivulet::pipeline

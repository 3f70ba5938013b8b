// DistinctCounter: count_distinct(x) over a window, exact for small sets and a HyperLogLog
// (Flajolet, Fusy, Gandouet, Meunier, 2007) of precision 12 beyond: one counter per key per
// slice, merged when a window fires.
// The details, precisely: docs/architecture.md, "The distinct counter".
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
  // Snapshots: which registers are set (distinct_counter.cc).
  std::size_t markZeros(std::uint8_t* bitmap) const noexcept;
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

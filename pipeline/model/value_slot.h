// Value slots: the 8 bytes an event record carries per value its pipeline's aggregates read, in
// one of three forms. Most aggregates read a number; count_distinct only needs a hash of the value,
// which fits the slot; top_k needs the value's bytes, which follow the key in the record.
//
// Every form's null is the bit pattern of quiet_NaN (kNullSlot), which is what a router writes
// for an absent value. A number slot tests for null with v != v, as any NaN is null there. The
// other forms compare bits, since a hash may well be some NaN: distinctHash() never returns
// kNullSlot itself, and an item reference is never a NaN (see ItemRef).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string_view>

#include "pipeline/model/hash.h"
#include "pipeline/model/key.h"

namespace rivulet::pipeline {

enum class ValueForm : std::uint8_t {
  kNumber,        // a double (NaN: null)
  kDistinctHash,  // distinctHash() of the value, for count_distinct
  kItem,          // an ItemRef to [type][bytes] after the key, for top_k
};

inline constexpr std::uint64_t kNullSlot =
    std::bit_cast<std::uint64_t>(std::numeric_limits<double>::quiet_NaN());

inline std::uint64_t slotBits(const double& slot) noexcept {
  return std::bit_cast<std::uint64_t>(slot);
}

// Longest text of a top_k item (a string's bytes, a number's JSON text). Items are bounded so that
// a top_k result of config::kMaxTopK items fits one result message (at most 4 KiB with the key and
// the other aggregates); an event with a longer one is refused (value_too_long), as an event with
// an over-long key is.
inline constexpr std::size_t kMaxItemBytes = 64;

// count_distinct counts values by this hash: numbers by value (1, 1.0 and 1e0 are one value; -0 is
// 0), strings by their bytes, bools by their text, each type apart ("1" is not 1). A collision of
// two values' 64-bit hashes would count them once: about 2^-53 for 64 values, where the count is
// exact, and far below the sketch's error beyond.
inline std::uint64_t distinctHash(KeyPartType type, std::string_view bytes) noexcept {
  KeyHasher hasher;
  hasher.add(static_cast<char>(type), bytes);
  const std::uint64_t hash = hasher.finish();
  // Stay clear of the null pattern; the one hash that would collide merges with its neighbour.
  return hash == kNullSlot ? hash ^ 1 : hash;
}

inline std::uint64_t distinctHash(double number) noexcept {
  const double canonical = number == 0 ? 0.0 : number;
  char bytes[sizeof canonical];
  std::memcpy(bytes, &canonical, sizeof bytes);
  return distinctHash(KeyPartType::kNumber, {bytes, sizeof bytes});
}

// Where an item's bytes are: `offset` from the first value slot (the record's payload), `size`
// bytes: the item's type (a KeyPartType, so a result prints strings quoted and numbers and bools
// as written) then its text. The size is at most 1 + kMaxItemBytes, far below the 2^20 that would
// reach a double's exponent bits, so no reference is a NaN, let alone kNullSlot.
struct ItemRef {
  std::uint32_t offset;
  std::uint32_t size;

  std::uint64_t bits() const noexcept { return offset | static_cast<std::uint64_t>(size) << 32; }
  static ItemRef of(const double& slot) noexcept {
    const std::uint64_t bits = slotBits(slot);
    return {static_cast<std::uint32_t>(bits), static_cast<std::uint32_t>(bits >> 32)};
  }
};

// The item a non-null kItem slot refers to; `values` is the record's first value slot.
inline std::string_view itemAt(const double* values, const double& slot) noexcept {
  const ItemRef ref = ItemRef::of(slot);
  return {reinterpret_cast<const char*>(values) + ref.offset, ref.size};
}

}  // namespace rivulet::pipeline

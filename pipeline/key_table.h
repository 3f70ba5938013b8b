// KeyTable: an open-addressing hash table from encoded keys to dense aggregate states, owning the
// key bytes and the state words. clear() keeps every buffer, so a table recycled from window to
// window stops allocating once it has grown to the working set.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "pipeline/aggregate.h"

namespace rivulet::pipeline {

class KeyTable {
 public:
  explicit KeyTable(std::size_t words_per_state);

  // The state of `key`, inserted and initialised with `init` (Aggregates::init) if new.
  // `hash` must be the key's hash; only its low bits index the table.
  template <typename Init>
  Word* findOrInsert(std::uint64_t hash, std::string_view key, Init&& init);
  Word* find(std::uint64_t hash, std::string_view key) noexcept;

  std::size_t size() const noexcept { return entries_.size(); }
  std::uint64_t hashAt(std::size_t i) const noexcept { return entries_[i].hash; }
  std::string_view keyAt(std::size_t i) const noexcept;
  Word* stateAt(std::size_t i) noexcept { return &states_[i * words_]; }
  const Word* stateAt(std::size_t i) const noexcept { return &states_[i * words_]; }

  void clear() noexcept;

 private:
  // Entries are dense and in insertion order, so iterating a table (to fire a window) reads
  // memory sequentially and emits keys in a stable order.
  struct Entry {
    std::uint64_t hash;
    std::uint32_t key_offset;  // into keys_
    std::uint32_t key_size;
  };
  static constexpr std::uint32_t kEmpty = 0xffffffff;
  static constexpr std::size_t kInitialSlots = 16;

  bool matches(const Entry& e, std::uint64_t hash, std::string_view key) const noexcept {
    // The full 64-bit hash rejects almost every mismatch without touching the key bytes.
    return e.hash == hash && e.key_size == key.size() &&
           std::memcmp(keys_.data() + e.key_offset, key.data(), key.size()) == 0;
  }
  // Load stays at or below 5/8: linear probing's chains stay short and a miss stops early.
  bool needsGrowth() const noexcept { return (entries_.size() + 1) * 8 > slots_.size() * 5; }
  void grow();
  std::uint32_t append(std::uint64_t hash, std::string_view key);

  std::size_t words_;
  std::size_t mask_;                 // slots_.size() - 1; slots_.size() is a power of two
  std::vector<std::uint32_t> slots_;  // entry index or kEmpty
  std::vector<Entry> entries_;
  std::vector<char> keys_;
  std::vector<Word> states_;  // words_ per entry
};

template <typename Init>
Word* KeyTable::findOrInsert(std::uint64_t hash, std::string_view key, Init&& init) {
  std::size_t slot = hash & mask_;
  for (;;) {
    const std::uint32_t index = slots_[slot];
    if (index == kEmpty) break;
    if (matches(entries_[index], hash, key)) return stateAt(index);
    slot = (slot + 1) & mask_;
  }
  if (needsGrowth()) {
    grow();
    slot = hash & mask_;
    while (slots_[slot] != kEmpty) slot = (slot + 1) & mask_;
  }
  const std::uint32_t index = append(hash, key);
  slots_[slot] = index;
  Word* state = stateAt(index);
  init(state);
  return state;
}

}  // namespace rivulet::pipeline

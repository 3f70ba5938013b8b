#include "pipeline/key_table.h"

#include <algorithm>
#include <cassert>
#include <limits>

namespace rivulet::pipeline {

KeyTable::KeyTable(std::size_t words_per_state)
    : words_(words_per_state), mask_(kInitialSlots - 1), slots_(kInitialSlots, kEmpty) {}

Word* KeyTable::find(std::uint64_t hash, std::string_view key) noexcept {
  for (std::size_t slot = hash & mask_;; slot = (slot + 1) & mask_) {
    const std::uint32_t index = slots_[slot];
    if (index == kEmpty) return nullptr;
    if (matches(entries_[index], hash, key)) return stateAt(index);
  }
}

std::string_view KeyTable::keyAt(std::size_t i) const noexcept {
  const Entry& e = entries_[i];
  return {keys_.data() + e.key_offset, e.key_size};
}

void KeyTable::clear() noexcept {
  // A table that once held many keys and now holds few (a quiet window after a busy one) is
  // cleared entry by entry rather than by wiping every slot.
  if (entries_.size() * 8 < slots_.size()) {
    for (const Entry& e : entries_) {
      // Linear probing: the entry sits at or after its home slot; other entries being cleared
      // meanwhile does not matter because the search is for this exact index, not for a gap.
      const auto index = static_cast<std::uint32_t>(&e - entries_.data());
      std::size_t slot = e.hash & mask_;
      while (slots_[slot] != index) slot = (slot + 1) & mask_;
      slots_[slot] = kEmpty;
    }
  } else {
    std::fill(slots_.begin(), slots_.end(), kEmpty);
  }
  entries_.clear();
  keys_.clear();
  states_.clear();
}

void KeyTable::grow() {
  const std::size_t slots = slots_.size() * 2;
  slots_.assign(slots, kEmpty);
  mask_ = slots - 1;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    std::size_t slot = entries_[i].hash & mask_;
    while (slots_[slot] != kEmpty) slot = (slot + 1) & mask_;
    slots_[slot] = static_cast<std::uint32_t>(i);
  }
}

std::uint32_t KeyTable::append(std::uint64_t hash, std::string_view key) {
  // 32-bit offsets keep an entry at 16 bytes; 4 GiB of key bytes in one slice is far beyond any
  // memory budget rivulet runs with.
  assert(keys_.size() + key.size() <= std::numeric_limits<std::uint32_t>::max());
  const auto index = static_cast<std::uint32_t>(entries_.size());
  entries_.push_back(Entry{hash, static_cast<std::uint32_t>(keys_.size()),
                           static_cast<std::uint32_t>(key.size())});
  keys_.insert(keys_.end(), key.begin(), key.end());
  states_.resize(states_.size() + words_);
  return index;
}

}  // namespace rivulet::pipeline

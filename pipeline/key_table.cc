#include "pipeline/key_table.h"

#include <algorithm>
#include <cassert>
#include <limits>

namespace rivulet::pipeline {

KeyTable::KeyTable(std::size_t words_per_state)
    : words_(words_per_state),
      stride_(kHeaderWords + words_per_state),
      mask_(kInitialSlots - 1),
      slots_(kInitialSlots, kEmpty) {}

Word* KeyTable::find(std::uint64_t hash, std::string_view key) noexcept {
  const KeyImage image = imageOf(key);
  for (std::size_t slot = hash & mask_;; slot = (slot + 1) & mask_) {
    const std::uint32_t index = slots_[slot];
    if (index == kEmpty) return nullptr;
    if (matches(index, hash, key, image)) return stateAt(index);
  }
}

std::string_view KeyTable::keyAt(std::size_t i) const noexcept {
  const auto ref = static_cast<std::uint64_t>(records_[i * stride_ + kKeyRef].i);
  return {keys_.data() + (ref & 0xffffffff), static_cast<std::size_t>(ref >> 32)};
}

void KeyTable::clear() noexcept {
  // A table that once held many keys and now holds few (a quiet window after a busy one) is
  // cleared entry by entry rather than by wiping every slot.
  if (size_ * 8 < slots_.size()) {
    for (std::size_t i = 0; i < size_; ++i) {
      // Linear probing: the entry sits at or after its home slot. That entries cleared before it
      // leave gaps does not matter: the search is for this index, not for a gap.
      std::size_t slot = hashAt(i) & mask_;
      while (slots_[slot] != i) slot = (slot + 1) & mask_;
      slots_[slot] = kEmpty;
    }
  } else {
    std::fill(slots_.begin(), slots_.end(), kEmpty);
  }
  size_ = 0;
  records_.clear();
  keys_.clear();
}

void KeyTable::grow() {
  const std::size_t slots = slots_.size() * 2;
  slots_.assign(slots, kEmpty);
  mask_ = slots - 1;
  for (std::size_t i = 0; i < size_; ++i) {
    std::size_t slot = hashAt(i) & mask_;
    while (slots_[slot] != kEmpty) slot = (slot + 1) & mask_;
    slots_[slot] = static_cast<std::uint32_t>(i);
  }
}

std::uint32_t KeyTable::append(std::uint64_t hash, std::string_view key, const KeyImage& image) {
  // 32-bit offsets keep the header at 4 words; 4 GiB of key bytes in one slice is far beyond any
  // memory budget rivulet runs with.
  assert(keys_.size() + key.size() <= std::numeric_limits<std::uint32_t>::max());
  const std::uint64_t ref = keys_.size() | static_cast<std::uint64_t>(key.size()) << 32;
  keys_.insert(keys_.end(), key.begin(), key.end());
  records_.resize(records_.size() + stride_);
  Word* r = &records_[size_ * stride_];
  r[kHash].i = static_cast<std::int64_t>(hash);
  r[kKeyRef].i = static_cast<std::int64_t>(ref);
  r[kImageHead].i = image.head;
  r[kImageTail].i = image.tail;
  return static_cast<std::uint32_t>(size_++);
}

}  // namespace rivulet::pipeline

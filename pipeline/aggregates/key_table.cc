#include "pipeline/aggregates/key_table.h"

#include <algorithm>
#include <cassert>
#include <limits>

namespace rivulet::pipeline {

KeyTable::KeyTable(std::size_t words_per_state)
    : stride_(kHeaderWords + words_per_state),
      mask_(kInitialSlots - 1),
      tags_(kInitialSlots + kGroup - 1, kEmptyTag),
      slots_(kInitialSlots) {}

Word* KeyTable::findLong(std::uint64_t hash, std::string_view key) noexcept {
  const KeyImage image = imageOf(key);
  return probe(hash, [&](std::uint32_t index) {
    return headerMatches(index, hash, key.size(), image) && keyAt(index) == key;
  });
}

std::string_view KeyTable::keyAt(std::size_t i) const noexcept {
  const auto ref = static_cast<std::uint64_t>(records_[i * stride_ + kKeyRef].i);
  return {keys_.data() + (ref & 0xffffffff), static_cast<std::size_t>(ref >> 32)};
}

void KeyTable::clear() noexcept {
  // Only the tags say which slots are taken. A table that once held many keys and now holds few
  // (a quiet window after a busy one) is cleared entry by entry rather than by wiping every tag.
  if (size_ * 16 < slots_.size()) {
    for (std::size_t i = 0; i < size_; ++i) {
      // The entry sits at or after its home slot. That entries cleared before it leave gaps does
      // not matter: the search is for this index, not for a gap.
      std::size_t slot = hashAt(i) & mask_;
      while (tags_[slot] == kEmptyTag || slots_[slot] != i) slot = (slot + 1) & mask_;
      tags_[slot] = kEmptyTag;
      if (slot < kGroup - 1) tags_[slots_.size() + slot] = kEmptyTag;
    }
  } else {
    std::fill(tags_.begin(), tags_.end(), kEmptyTag);
  }
  size_ = 0;
  records_.clear();
  keys_.clear();
}

void KeyTable::place(std::uint64_t hash, std::uint32_t index) noexcept {
  std::size_t pos = hash & mask_;
  std::uint32_t empty;
  while ((empty = matchGroup(pos, kEmptyTag)) == 0) pos = (pos + kGroup) & mask_;
  const std::size_t slot = (pos + std::countr_zero(empty)) & mask_;
  const std::uint8_t tag = tagOf(hash);
  tags_[slot] = tag;
  if (slot < kGroup - 1) tags_[slots_.size() + slot] = tag;  // the mirror
  slots_[slot] = index;
}

void KeyTable::grow() {
  const std::size_t slots = slots_.size() * 2;
  tags_.assign(slots + kGroup - 1, kEmptyTag);
  slots_.resize(slots);
  mask_ = slots - 1;
  for (std::size_t i = 0; i < size_; ++i) place(hashAt(i), static_cast<std::uint32_t>(i));
}

Word* KeyTable::insert(std::uint64_t hash, std::string_view key) {
  // Load stays at or below 5/8, which keeps almost every probe within its first group.
  if ((size_ + 1) * 8 > slots_.size() * 5) grow();
  // 32-bit offsets keep the header at 4 words; 4 GiB of key bytes in one slice is far beyond any
  // memory budget rivulet runs with.
  assert(keys_.size() + key.size() <= std::numeric_limits<std::uint32_t>::max());
  const std::uint64_t ref = keys_.size() | static_cast<std::uint64_t>(key.size()) << 32;
  const KeyImage image = imageOf(key);
  keys_.insert(keys_.end(), key.begin(), key.end());
  records_.resize(records_.size() + stride_);
  Word* r = &records_[size_ * stride_];
  r[kHash].i = static_cast<std::int64_t>(hash);
  r[kKeyRef].i = static_cast<std::int64_t>(ref);
  r[kImageHead].i = image.head;
  r[kImageTail].i = image.tail;
  place(hash, static_cast<std::uint32_t>(size_++));
  return r + kHeaderWords;
}

}  // namespace rivulet::pipeline

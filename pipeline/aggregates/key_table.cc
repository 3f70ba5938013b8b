#include "pipeline/aggregates/key_table.h"

#include <algorithm>
#include <cassert>

namespace rivulet::pipeline {

KeyTable::KeyTable(std::size_t words_per_state)
    : stride_(kHeaderWords + words_per_state),
      mask_(kInitialSlots - 1),
      tags_(kInitialSlots + kGroup - 1, kEmptyTag),
      slots_(kInitialSlots) {}

std::string_view KeyTable::storedKey(const Word* r) noexcept {
  const char* stored = reinterpret_cast<const char*>(r[kTail].i);
  std::uint32_t size;
  std::memcpy(&size, stored, sizeof size);
  return {stored + sizeof size, size};
}

Word* KeyTable::findLong(std::uint64_t hash, std::string_view key) noexcept {
  const std::int64_t head = headOf(hash, key.size(), load(key.data(), 8));
  return probe(hash, [&](const Word* r) { return r[kHead].i == head && storedKey(r) == key; });
}

std::string_view KeyTable::keyAt(std::size_t i) const noexcept {
  const Word* r = record(i);
  const std::size_t size = (static_cast<std::uint64_t>(r[kHead].i) >> 32) & 0xff;
  if (size <= kInlineBytes) return {reinterpret_cast<const char*>(r) + kInlineOffset, size};
  return storedKey(r);
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
  arena_chunk_ = 0;
  arena_used_ = 0;
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

const char* KeyTable::store(std::string_view key) {
  const std::size_t need = sizeof(std::uint32_t) + key.size();
  while (arena_chunk_ < arena_.size() && arena_used_ + need > arena_[arena_chunk_].capacity) {
    ++arena_chunk_;
    arena_used_ = 0;
  }
  if (arena_chunk_ == arena_.size()) {
    const std::size_t capacity = std::max(kArenaChunk, need);
    arena_.push_back({std::make_unique_for_overwrite<char[]>(capacity), capacity});
  }
  char* out = arena_[arena_chunk_].bytes.get() + arena_used_;
  const auto size = static_cast<std::uint32_t>(key.size());
  std::memcpy(out, &size, sizeof size);
  std::memcpy(out + sizeof size, key.data(), key.size());
  arena_used_ += need;
  return out;
}

Word* KeyTable::insert(std::uint64_t hash, std::string_view key) {
  assert(key.size() <= kMaxKeySize);
  // Load stays at or below 5/8, which keeps almost every probe within its first group.
  if ((size_ + 1) * 8 > slots_.size() * 5) grow();
  Word* r = records_.grow(stride_);
  if (key.size() <= kInlineBytes) {
    const Header h = inlineHeader(hash, key);
    r[kHead].i = h.head;
    r[kTail].i = h.tail;
  } else {
    r[kHead].i = headOf(hash, key.size(), load(key.data(), 8));
    r[kTail].i = static_cast<std::int64_t>(reinterpret_cast<std::uintptr_t>(store(key)));
  }
  place(hash, static_cast<std::uint32_t>(size_++));
  return r + kHeaderWords;
}

}  // namespace rivulet::pipeline

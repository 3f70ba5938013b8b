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

  // Entries are numbered 0..size()-1 in insertion order.
  std::size_t size() const noexcept { return size_; }
  std::uint64_t hashAt(std::size_t i) const noexcept {
    return static_cast<std::uint64_t>(records_[i * stride_ + kHash].i);
  }
  std::string_view keyAt(std::size_t i) const noexcept;
  Word* stateAt(std::size_t i) noexcept { return &records_[i * stride_ + kHeaderWords]; }
  const Word* stateAt(std::size_t i) const noexcept {
    return &records_[i * stride_ + kHeaderWords];
  }

  void clear() noexcept;

 private:
  // Layout. slots_ is the open-addressing array (linear probing) of entry indices; entries are
  // dense records of header words followed by the state words, so a hit reads one slot and one
  // record — the key check and the update touch the same cache lines. The key bytes live in keys_,
  // but a key of up to 16 bytes is identified by its size and its image (first and last 8 bytes)
  // in the header, so short keys are compared without reading keys_ at all.
  enum : std::size_t {
    kHash,       // the caller's 64-bit hash
    kKeyRef,     // key offset in keys_ (low 32 bits) | key size (high 32 bits)
    kImageHead,  // the key's first 8 bytes (fewer for short keys, zero padded)
    kImageTail,  // the key's last 8 bytes
    kHeaderWords,
  };
  static constexpr std::uint32_t kEmpty = 0xffffffff;
  static constexpr std::size_t kInitialSlots = 16;
  static constexpr std::size_t kImageBytes = 16;

  struct KeyImage {
    std::int64_t head = 0;
    std::int64_t tail = 0;
  };
  static KeyImage imageOf(std::string_view key) noexcept {
    const char* p = key.data();
    const std::size_t n = key.size();
    KeyImage image;
    if (n >= 8) {
      std::memcpy(&image.head, p, 8);
      std::memcpy(&image.tail, p + n - 8, 8);
    } else if (n >= 4) {
      std::uint32_t head, tail;
      std::memcpy(&head, p, 4);
      std::memcpy(&tail, p + n - 4, 4);
      image = {head, tail};
    } else if (n > 0) {
      image.head = static_cast<unsigned char>(p[0]) |
                   static_cast<std::int64_t>(static_cast<unsigned char>(p[n / 2])) << 8 |
                   static_cast<std::int64_t>(static_cast<unsigned char>(p[n - 1])) << 16;
    }
    return image;
  }

  bool matches(std::uint32_t index, std::uint64_t hash, std::string_view key,
               const KeyImage& image) const noexcept {
    const Word* r = &records_[index * stride_];
    // The full 64-bit hash rejects almost every other key before its bytes are looked at.
    if (static_cast<std::uint64_t>(r[kHash].i) != hash || r[kImageHead].i != image.head ||
        r[kImageTail].i != image.tail) {
      return false;
    }
    const auto ref = static_cast<std::uint64_t>(r[kKeyRef].i);
    return (ref >> 32) == key.size() &&
           (key.size() <= kImageBytes ||
            std::memcmp(keys_.data() + (ref & 0xffffffff), key.data(), key.size()) == 0);
  }
  // Load stays at or below 5/8: linear probing's chains stay short and a miss stops early.
  bool needsGrowth() const noexcept { return (size_ + 1) * 8 > slots_.size() * 5; }
  void grow();
  std::uint32_t append(std::uint64_t hash, std::string_view key, const KeyImage& image);

  std::size_t words_;   // state words per entry
  std::size_t stride_;  // kHeaderWords + words_
  std::size_t size_ = 0;
  std::size_t mask_;                  // slots_.size() - 1; slots_.size() is a power of two
  std::vector<std::uint32_t> slots_;  // entry index or kEmpty
  std::vector<Word> records_;         // size_ * stride_ words
  std::vector<char> keys_;
};

template <typename Init>
Word* KeyTable::findOrInsert(std::uint64_t hash, std::string_view key, Init&& init) {
  const KeyImage image = imageOf(key);
  std::size_t slot = hash & mask_;
  for (;;) {
    const std::uint32_t index = slots_[slot];
    if (index == kEmpty) break;
    if (matches(index, hash, key, image)) return stateAt(index);
    slot = (slot + 1) & mask_;
  }
  if (needsGrowth()) {
    grow();
    slot = hash & mask_;
    while (slots_[slot] != kEmpty) slot = (slot + 1) & mask_;
  }
  const std::uint32_t index = append(hash, key, image);
  slots_[slot] = index;
  Word* state = stateAt(index);
  init(state);
  return state;
}

}  // namespace rivulet::pipeline

// KeyTable: an open-addressing hash table from encoded keys to dense aggregate states, owning the
// key bytes and the state words. clear() keeps every buffer, so a table recycled from window to
// window stops allocating once it has grown to the working set.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "pipeline/aggregates/aggregate.h"

namespace rivulet::pipeline {

class KeyTable {
 public:
  explicit KeyTable(std::size_t words_per_state);

  // The state of `key`, inserted and initialised with `init` (Aggregates::init) if new.
  // `hash` must be the key's hash; only its low bits index the table.
  template <typename Init>
  Word* findOrInsert(std::uint64_t hash, std::string_view key, Init&& init);
  // The state of `key`, or nullptr. Inline, with no call on a hit: the per-event hot path.
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
  // Layout.
  // - slots_: the open-addressing array (power of two, linear probing, no deletions) of entry
  //   indices. tags_ holds one byte per slot: 0 for empty, else 0x80 | 7 bits of the hash. Probing
  //   compares 16 tags at once (SSE2), as SwissTable does: a lookup reads its slot only where the
  //   tag matches, and its branches do not depend on how far the key sits from its home slot, which
  //   a slot-by-slot probe loop mispredicts on about every other event.
  // - records_: dense entries in insertion order, each header words then the state words, so a hit
  //   reads one tag group, one slot and one record, and the key check and the update touch the
  //   same cache lines.
  // - keys_: the key bytes. A key of up to 16 bytes is identified by its size and image (its first
  //   and last 8 bytes) in the header, so the common short key is compared without reading keys_.
  enum : std::size_t {
    kHash,       // the caller's 64-bit hash
    kKeyRef,     // key offset in keys_ (low 32 bits) | key size (high 32 bits)
    kImageHead,  // the key's first 8 bytes (fewer for short keys, zero padded)
    kImageTail,  // the key's last 8 bytes
    kHeaderWords,
  };
  static constexpr std::size_t kGroup = 16;
  static constexpr std::size_t kInitialSlots = kGroup;
  static constexpr std::uint8_t kEmptyTag = 0;
  static constexpr std::size_t kImageBytes = 16;

  // Bits 32..38: the low bits are the table index and the stage shards on the top bits.
  static std::uint8_t tagOf(std::uint64_t hash) noexcept {
    return static_cast<std::uint8_t>(0x80 | ((hash >> 32) & 0x7f));
  }

  // Bit i set: tags_[pos + i] == tag, for the kGroup tags from pos (tags_ mirrors its first
  // kGroup - 1 bytes past the end, so a group never wraps).
  std::uint32_t matchGroup(std::size_t pos, std::uint8_t tag) const noexcept {
#if defined(__SSE2__)
    const __m128i group = _mm_loadu_si128(reinterpret_cast<const __m128i*>(tags_.data() + pos));
    return static_cast<std::uint32_t>(
        _mm_movemask_epi8(_mm_cmpeq_epi8(group, _mm_set1_epi8(static_cast<char>(tag)))));
#else
    std::uint32_t bits = 0;
    for (std::size_t i = 0; i < kGroup; ++i) bits |= std::uint32_t{tags_[pos + i] == tag} << i;
    return bits;
#endif
  }

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

  // Whether entry `index` holds `key`, judged by the header alone: exact for keys of up to
  // kImageBytes, a filter for longer ones. The full 64-bit hash rejects almost every other key.
  bool headerMatches(std::uint32_t index, std::uint64_t hash, std::size_t size,
                     const KeyImage& image) const noexcept {
    const Word* r = &records_[index * stride_];
    return static_cast<std::uint64_t>(r[kHash].i) == hash && r[kImageHead].i == image.head &&
           r[kImageTail].i == image.tail &&
           (static_cast<std::uint64_t>(r[kKeyRef].i) >> 32) == size;
  }

  // Looks up `key` with `equal(index)` deciding candidates whose tag matches.
  template <typename Equal>
  Word* probe(std::uint64_t hash, Equal&& equal) noexcept;
  // find() for keys longer than kImageBytes, which also compares the bytes: out of line, so the
  // short-key path makes no call.
  Word* findLong(std::uint64_t hash, std::string_view key) noexcept;

  // Adds a key known to be absent; its state is left for the caller to initialise.
  Word* insert(std::uint64_t hash, std::string_view key);
  // Puts entry `index` in the first empty slot at or after its home slot.
  void place(std::uint64_t hash, std::uint32_t index) noexcept;
  void grow();

  std::size_t stride_;  // kHeaderWords + the state words per entry
  std::size_t size_ = 0;
  std::size_t mask_;                  // slots_.size() - 1; slots_.size() is a power of two
  std::vector<std::uint8_t> tags_;    // slots_.size() + kGroup - 1
  std::vector<std::uint32_t> slots_;  // entry index, where the tag is not empty
  std::vector<Word> records_;         // size_ * stride_ words
  std::vector<char> keys_;
};

// find() and probe() are forced inline, like Aggregates::update: the hot path of an event is one
// function without calls (measured with bench/window_bench.cc).
template <typename Equal>
[[gnu::always_inline]] inline Word* KeyTable::probe(std::uint64_t hash, Equal&& equal) noexcept {
  const std::uint8_t tag = tagOf(hash);
  // The load factor stays below 1, so some group has an empty slot and the loop ends. With no
  // deletions, a key sits before the first empty slot after its home.
  for (std::size_t pos = hash & mask_;; pos = (pos + kGroup) & mask_) {
    for (std::uint32_t bits = matchGroup(pos, tag); bits != 0; bits &= bits - 1) {
      const std::uint32_t index = slots_[(pos + std::countr_zero(bits)) & mask_];
      if (equal(index)) return stateAt(index);
    }
    if (matchGroup(pos, kEmptyTag) != 0) return nullptr;
  }
}

[[gnu::always_inline]] inline Word* KeyTable::find(std::uint64_t hash,
                                                   std::string_view key) noexcept {
  if (key.size() > kImageBytes) return findLong(hash, key);
  const KeyImage image = imageOf(key);
  return probe(hash,
               [&](std::uint32_t index) { return headerMatches(index, hash, key.size(), image); });
}

template <typename Init>
Word* KeyTable::findOrInsert(std::uint64_t hash, std::string_view key, Init&& init) {
  if (Word* state = find(hash, key)) return state;
  Word* state = insert(hash, key);
  init(state);
  return state;
}

}  // namespace rivulet::pipeline

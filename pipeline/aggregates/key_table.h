// KeyTable: an open-addressing hash table from encoded keys to dense aggregate states, owning the
// key bytes and the state words. clear() keeps every buffer, so a table recycled from window to
// window stops allocating once it has grown to the working set.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "pipeline/aggregates/aggregate.h"
#include "pipeline/runtime/remap_array.h"

namespace rivulet::pipeline {

class KeyTable {
 public:
  // Longer keys are the caller's to refuse (the router's are at most 512 bytes).
  static constexpr std::size_t kMaxKeySize = 0xffff;

  explicit KeyTable(std::size_t words_per_state);

  // The state of `key`, inserted and initialised with `init` (Aggregates::init) if new.
  // `hash` is the key's hash. Only its low 32 bits count: hashes equal in them are one hash to
  // the table, and hashAt() returns them.
  template <typename Init>
  Word* findOrInsert(std::uint64_t hash, std::string_view key, Init&& init);
  // The state of `key`, or nullptr. Inline, with no call on a hit: the per-event hot path.
  Word* find(std::uint64_t hash, std::string_view key) noexcept;

  // Entries are numbered 0..size()-1 in insertion order. An insert may move the states and the
  // keys held in them: the views and pointers below last until the next insert.
  std::size_t size() const noexcept { return size_; }
  std::uint64_t hashAt(std::size_t i) const noexcept {
    return static_cast<std::uint64_t>(record(i)[kHead].i) & 0xffffffff;
  }
  std::string_view keyAt(std::size_t i) const noexcept;
  Word* stateAt(std::size_t i) noexcept { return record(i) + kHeaderWords; }
  const Word* stateAt(std::size_t i) const noexcept { return record(i) + kHeaderWords; }
  // The entry a state returned by find() or stateAt() belongs to.
  std::size_t indexOf(const Word* state) const noexcept {
    return static_cast<std::size_t>(state - kHeaderWords - records_.data()) / stride_;
  }

  void clear() noexcept;

 private:
  // Layout.
  // - slots_: the open-addressing array (power of two, linear probing, no deletions) of entry
  //   indices. tags_ holds one byte per slot: 0 for empty, else 0x80 | 7 bits of the hash. Probing
  //   compares 16 tags at once (SSE2), as SwissTable does: a lookup reads its slot only where the
  //   tag matches, and its branches do not depend on how far the key sits from its home slot, which
  //   a slot-by-slot probe loop mispredicts on about every other event.
  // - records_: the entries in insertion order, each a two-word header and then the state words.
  //   A hit reads one tag group, one slot and one entry, and the key check and the update touch
  //   the same cache lines. A RemapArray, so a big table grows without a second copy of its
  //   entries (a vector's growth holds the old and the new array at once).
  // - The header: the low 32 bits of the hash, the key's size (255 for 255 bytes or more) and the
  //   key's first 3 bytes in kHead; in kTail the key's bytes 3 to 10, or, for a key longer than
  //   kInlineBytes, the address of its copy in the arena. An inline key is compared in two words
  //   and its bytes are the entry's bytes 5 to 15 (little-endian), so it is stored nowhere else.
  enum : std::size_t {
    kHead,
    kTail,
    kHeaderWords,
  };
  static_assert(std::endian::native == std::endian::little);
  static constexpr std::size_t kInlineBytes = 11;
  static constexpr std::size_t kInlineOffset = 5;  // of an inline key's bytes in its entry
  static constexpr std::size_t kArenaChunk = 64 * 1024;
  static constexpr std::size_t kGroup = 16;
  static constexpr std::size_t kInitialSlots = kGroup;
  static constexpr std::uint8_t kEmptyTag = 0;

  // The hash's bits 25..31; the low bits are the slot, so below 2^25 slots the tag and the slot
  // are independent.
  static std::uint8_t tagOf(std::uint64_t hash) noexcept {
    return static_cast<std::uint8_t>(0x80 | ((hash >> 25) & 0x7f));
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

  struct Header {
    std::int64_t head;
    std::int64_t tail;
  };
  static std::uint64_t load(const char* p, std::size_t bytes) noexcept {
    std::uint64_t v = 0;
    std::memcpy(&v, p, bytes);
    return v;
  }
  static std::int64_t headOf(std::uint64_t hash, std::size_t size, std::uint64_t first) noexcept {
    return static_cast<std::int64_t>((hash & 0xffffffff) | (size < 255 ? size : 255) << 32 |
                                     first << 40);
  }
  // The header of a key of at most kInlineBytes: its bytes, zero padded, from at most two loads
  // that may overlap (every byte counts; overlapping bytes are ORed onto themselves). Copying the
  // key byte by byte into a zeroed header would stall on store-to-load forwarding on every event.
  static Header inlineHeader(std::uint64_t hash, std::string_view key) noexcept {
    const char* p = key.data();
    const std::size_t n = key.size();
    std::uint64_t low = 0;   // bytes 0..7
    std::uint64_t high = 0;  // bytes 8..10
    if (n >= 8) {
      low = load(p, 8);
      high = load(p + n - 8, 8) >> (8 * (15 - n)) >> 8;  // in two steps: n == 8 shifts by 64
    } else if (n >= 4) {
      low = load(p, 4) | load(p + n - 4, 4) << (8 * (n - 4));
    } else if (n > 0) {
      const auto byte = [p](std::size_t i) { return load(p + i, 1) << (8 * i); };
      low = byte(0) | byte(n / 2) | byte(n - 1);
    }
    return {headOf(hash, n, low), static_cast<std::int64_t>(low >> 24 | high << 40)};
  }

  Word* record(std::size_t i) noexcept { return records_.data() + i * stride_; }
  const Word* record(std::size_t i) const noexcept { return records_.data() + i * stride_; }
  // The arena copy of a long key's entry `r`.
  static std::string_view storedKey(const Word* r) noexcept;

  // Looks up `key` with `equal(record)` deciding candidates whose tag matches.
  template <typename Equal>
  Word* probe(std::uint64_t hash, Equal&& equal) noexcept;
  // find() for keys longer than kInlineBytes, whose bytes are in the arena: out of line, so the
  // inline path makes no call.
  Word* findLong(std::uint64_t hash, std::string_view key) noexcept;

  // Adds a key known to be absent; its state is left for the caller to initialise.
  Word* insert(std::uint64_t hash, std::string_view key);
  // A copy of `key` in the arena: its size (4 bytes), then its bytes.
  const char* store(std::string_view key);
  // Puts entry `index` in the first empty slot at or after its home slot.
  void place(std::uint64_t hash, std::uint32_t index) noexcept;
  void grow();

  std::size_t stride_;  // kHeaderWords + the state words per entry
  std::size_t size_ = 0;
  std::size_t mask_;                  // slots_.size() - 1; slots_.size() is a power of two
  std::vector<std::uint8_t> tags_;    // slots_.size() + kGroup - 1
  std::vector<std::uint32_t> slots_;  // entry index, where the tag is not empty
  RemapArray<Word> records_;          // size_ * stride_ words
  // The copies of long keys, in chunks that never move; clear() rewinds to the first.
  struct Chunk {
    std::unique_ptr<char[]> bytes;
    std::size_t capacity;
  };
  std::vector<Chunk> arena_;
  std::size_t arena_chunk_ = 0;  // the chunk being filled
  std::size_t arena_used_ = 0;   // bytes of it
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
      Word* r = record(slots_[(pos + std::countr_zero(bits)) & mask_]);
      if (equal(r)) return r + kHeaderWords;
    }
    if (matchGroup(pos, kEmptyTag) != 0) return nullptr;
  }
}

[[gnu::always_inline]] inline Word* KeyTable::find(std::uint64_t hash,
                                                   std::string_view key) noexcept {
  if (key.size() > kInlineBytes) return findLong(hash, key);
  const Header h = inlineHeader(hash, key);
  return probe(hash, [&](const Word* r) { return r[kHead].i == h.head && r[kTail].i == h.tail; });
}

template <typename Init>
Word* KeyTable::findOrInsert(std::uint64_t hash, std::string_view key, Init&& init) {
  if (Word* state = find(hash, key)) return state;
  Word* state = insert(hash, key);
  init(state);
  return state;
}

}  // namespace rivulet::pipeline

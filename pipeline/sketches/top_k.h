// TopK: top_k(x, k), the heavy hitters of a window by Space-Saving (Metwally, Agrawal, El Abbadi,
// "Efficient computation of frequent and top-k elements in data streams", ICDT 2005) with weights,
// over items given as bytes ("NYSE", or a number's JSON text): one summary per key per slice,
// merged when a window fires.
// The details, precisely: docs/architecture.md, "The top-k summary".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "pipeline/model/snapshot.h"

namespace rivulet::pipeline {

class TopK {
 public:
  static constexpr std::size_t kMaxItemBytes = 4096;

  struct Entry {
    std::string_view item;  // into the summary's buffer: valid until it next changes
    std::uint64_t count;    // an upper bound of the item's weight
    std::uint64_t error;    // count - error is a lower bound
  };

  // The capacity for top_k(x, k): max(10 k, 64) counters.
  static std::size_t capacityFor(std::size_t k) noexcept;

  // capacity in [1, kMaxCapacity], else std::invalid_argument. The limit keeps byte offsets
  // within 32 bits: the byte buffer stays below 4 (kMaxCapacity + 1) kMaxItemBytes < 2^32.
  static constexpr std::size_t kMaxCapacity = std::size_t{1} << 16;
  explicit TopK(std::size_t capacity);

  // Counts `weight` for `item`; false, and nothing counted, for an item over kMaxItemBytes.
  // A weight of 0 counts nothing.
  bool add(std::string_view item, std::uint64_t weight = 1) noexcept;
  // Working space of merge(), reusable across summaries of any capacity.
  class MergeScratch {
    friend class TopK;
    struct Candidate {
      std::uint64_t count;
      std::uint64_t error;
      std::uint64_t hash;
      std::string_view item;
    };
    std::vector<Candidate> candidates_;
    std::vector<char> bytes_;  // the merged items, before they are copied back
  };

  // this := this + other (same capacity, checked by a debug assert). The first form allocates
  // its working space; the second uses `scratch`.
  void merge(const TopK& other);
  void merge(const TopK& other, MergeScratch& scratch);
  // The k largest counts, largest first, ties by item bytes. The second form fills `out`, which
  // keeps its capacity, so that writing results does not allocate.
  std::vector<Entry> top(std::size_t k) const;
  void top(std::size_t k, std::vector<Entry>& out) const;

  std::uint64_t total() const noexcept { return total_; }
  std::size_t size() const noexcept { return counters_.size(); }
  std::size_t capacity() const noexcept { return capacity_; }
  // The smallest count once all counters are taken, else 0: see the guarantee above.
  std::uint64_t errorBound() const noexcept;

  // Checkpoints: every counter (item, count, error) in counter order and the heap's order of
  // them, since both decide which of equal counts a later add() replaces and how a merge lays out
  // its result (top_k.cc has the encoding). restore() replaces the contents with a snapshot of a
  // summary of the same capacity; on input that is corrupt or out of range (more counters than
  // this capacity, say) it returns false and leaves the summary empty.
  void snapshot(SnapshotWriter& out) const;
  bool restore(SnapshotReader& in);

  // Forgets every item and keeps the buffers.
  void clear() noexcept;
  // Bytes owned: the object and its buffers' capacity.
  std::size_t memoryBytes() const noexcept;

 private:
  struct Counter {
    std::uint64_t count;
    std::uint64_t error;
    std::uint64_t hash;    // hashKey(item)
    std::uint32_t offset;  // of the item's bytes in bytes_
    std::uint32_t size;
    std::uint32_t heap;  // position in heap_
  };
  static constexpr std::uint32_t kNoCounter = ~std::uint32_t{0};

  std::string_view itemOf(const Counter& c) const noexcept {
    return {bytes_.data() + c.offset, c.size};
  }
  // The counter holding `item`, or kNoCounter.
  std::uint32_t find(std::uint64_t hash, std::string_view item) const noexcept;
  // The index slot of counter `index`.
  std::size_t slotOf(std::uint32_t index) const noexcept;
  void insertSlot(std::uint32_t index) noexcept;
  void eraseSlot(std::size_t slot) noexcept;
  // Doubles the index and re-inserts every counter.
  void growIndex(std::size_t slots) noexcept;
  // Copies `item` into bytes_ and returns its offset; may compact or grow bytes_.
  std::uint32_t storeBytes(std::string_view item) noexcept;
  void compact() noexcept;
  void siftUp(std::size_t pos) noexcept;
  void siftDown(std::size_t pos) noexcept;
  void placeInHeap(std::size_t pos, std::uint32_t index) noexcept {
    heap_[pos] = index;
    counters_[index].heap = static_cast<std::uint32_t>(pos);
  }

  std::size_t capacity_;
  std::uint64_t total_ = 0;
  std::vector<Counter> counters_;     // grows to capacity_
  std::vector<std::uint32_t> heap_;   // counter indices, a min-heap by count
  std::vector<std::uint32_t> slots_;  // linear probing, power of two, at most half full
  std::vector<char> bytes_;           // item bytes; size() is the usable capacity
  std::size_t bytes_used_ = 0;        // bytes_[0, bytes_used_) hold live items and garbage
  std::size_t bytes_live_ = 0;
  std::vector<std::uint32_t> order_;  // compact()'s scratch, grown with counters_
};

}  // namespace rivulet::pipeline

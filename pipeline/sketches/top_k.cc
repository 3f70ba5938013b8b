#include "pipeline/sketches/top_k.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <numeric>
#include <stdexcept>

#include "pipeline/model/hash.h"

namespace rivulet::pipeline {

// Why the merge keeps the guarantees. Invariants of a summary S of weight N with m counters and
// smallest count mu (0 while S is not full):
//   (1) a monitored x has count(x) - error(x) <= f(x) <= count(x);
//   (2) an unmonitored x has f(x) <= mu;
//   (3) every error(x) <= mu, and errors are 0 while S is not full;
//   (4) the counts sum to at most N, so mu <= N / m.
// add() keeps them as Space-Saving does: the replaced item had count mu >= its weight by (1), the
// new one starts at mu >= its weight so far by (2), with error mu, and the sum grows by the
// weight. merge(S1, S2): let c^_i(x) be x's count in S_i if monitored there, else mu_i, and e^_i
// likewise; the candidate x gets c^_1 + c^_2 and e^_1 + e^_2, and the m largest are kept.
//   (1) f_i(x) <= c^_i(x) by (1) and (2) of S_i, and c^_i - e^_i <= f_i(x) by (1), or is 0.
//   (4) For any set T of at most m items, the sum over T of c^_1 is at most N1: if S1 is full,
//       T has no more items outside S1 than S1 has outside T, and each of those counts >= mu1,
//       so replacing them gives at most the sum of S1's counts; likewise for S2. The kept counts
//       sum to at most N1 + N2.
//   (3) Every candidate counts >= mu1 + mu2 (a monitored count is >= its summary's mu), so the
//       merged mu >= mu1 + mu2 >= every e^_1 + e^_2. Unfull result: neither input was full.
//   (2) An item in neither summary weighs f1 + f2 <= mu1 + mu2 <= mu; a dropped candidate
//       weighs at most its count, which is at most the kept m-th largest, mu.

std::size_t TopK::capacityFor(std::size_t k) noexcept {
  return std::clamp<std::size_t>(10 * k, 64, kMaxCapacity);
}

TopK::TopK(std::size_t capacity) : capacity_(capacity) {
  if (capacity == 0 || capacity > kMaxCapacity) {
    throw std::invalid_argument("TopK: capacity must be in [1, 65536]");
  }
}

bool TopK::add(std::string_view item, std::uint64_t weight) noexcept {
  if (item.size() > kMaxItemBytes) return false;
  if (weight == 0) return true;
  total_ += weight;
  const std::uint64_t hash = hashKey(item);
  if (const std::uint32_t index = find(hash, item); index != kNoCounter) {
    counters_[index].count += weight;
    siftDown(counters_[index].heap);
    return true;
  }
  if (counters_.size() < capacity_) {
    const auto index = static_cast<std::uint32_t>(counters_.size());
    if (counters_.size() == counters_.capacity()) {
      // Growth by hand, so the arrays stop at capacity_.
      const std::size_t grown = std::min(capacity_, std::max<std::size_t>(4, 2 * index));
      counters_.reserve(grown);
      heap_.reserve(grown);
      order_.reserve(grown);
    }
    if (2 * (counters_.size() + 1) > slots_.size()) {
      growIndex(std::max<std::size_t>(8, 2 * slots_.size()));
    }
    const std::uint32_t offset = storeBytes(item);
    counters_.push_back({weight, 0, hash, offset, static_cast<std::uint32_t>(item.size()), 0});
    heap_.push_back(index);
    placeInHeap(heap_.size() - 1, index);
    siftUp(heap_.size() - 1);
    insertSlot(index);
    return true;
  }
  // Replace the item with the smallest count.
  const std::uint32_t victim = heap_[0];
  eraseSlot(slotOf(victim));
  bytes_live_ -= counters_[victim].size;
  counters_[victim].size = 0;  // its bytes are garbage now, whatever storeBytes() compacts
  const std::uint32_t offset = storeBytes(item);
  Counter& c = counters_[victim];
  c.error = c.count;
  c.count += weight;
  c.hash = hash;
  c.offset = offset;
  c.size = static_cast<std::uint32_t>(item.size());
  insertSlot(victim);
  siftDown(0);
  return true;
}

void TopK::merge(const TopK& other) {
  MergeScratch scratch;
  merge(other, scratch);
}

void TopK::merge(const TopK& other, MergeScratch& scratch) {
  assert(other.capacity_ == capacity_);
  if (&other == this) {
    const TopK copy(*this);
    merge(copy, scratch);
    return;
  }
  if (other.total_ == 0) return;
  const std::uint64_t mu = errorBound();
  const std::uint64_t other_mu = other.errorBound();
  std::vector<MergeScratch::Candidate>& candidates = scratch.candidates_;
  candidates.clear();
  for (const Counter& c : counters_) {
    const std::string_view item = itemOf(c);
    const std::uint32_t j = other.find(c.hash, item);
    if (j != kNoCounter) {
      const Counter& o = other.counters_[j];
      candidates.push_back({c.count + o.count, c.error + o.error, c.hash, item});
    } else {
      candidates.push_back({c.count + other_mu, c.error + other_mu, c.hash, item});
    }
  }
  for (const Counter& o : other.counters_) {
    const std::string_view item = other.itemOf(o);
    if (find(o.hash, item) == kNoCounter) {
      candidates.push_back({o.count + mu, o.error + mu, o.hash, item});
    }
  }
  if (candidates.size() > capacity_) {
    // The m largest, ties by item bytes, so the result does not depend on the order of merging.
    std::nth_element(candidates.begin(), candidates.begin() + capacity_, candidates.end(),
                     [](const MergeScratch::Candidate& a, const MergeScratch::Candidate& b) {
                       return a.count != b.count ? a.count > b.count : a.item < b.item;
                     });
    candidates.resize(capacity_);
  }

  std::size_t live = 0;
  for (const MergeScratch::Candidate& c : candidates) live += c.item.size();
  // The candidates' items point into bytes_ and other.bytes_: they are gathered in the scratch's
  // buffer, then copied back, so that bytes_ grows only with this summary's own items, as in add().
  const std::size_t size = std::max(bytes_.size(), 2 * live);
  std::vector<char>& bytes = scratch.bytes_;
  bytes.resize(size);
  counters_.clear();
  counters_.reserve(candidates.size());
  heap_.resize(candidates.size());
  order_.reserve(candidates.size());
  std::size_t used = 0;
  for (const MergeScratch::Candidate& c : candidates) {
    if (!c.item.empty()) std::memcpy(bytes.data() + used, c.item.data(), c.item.size());
    const auto index = static_cast<std::uint32_t>(counters_.size());
    counters_.push_back({c.count, c.error, c.hash, static_cast<std::uint32_t>(used),
                         static_cast<std::uint32_t>(c.item.size()), index});
    heap_[index] = index;
    used += c.item.size();
  }
  candidates.clear();  // its views are stale once bytes_ changes
  bytes_.resize(size);
  if (used > 0) std::memcpy(bytes_.data(), bytes.data(), used);
  bytes_used_ = used;
  bytes_live_ = used;
  for (std::size_t pos = heap_.size() / 2; pos-- > 0;) siftDown(pos);
  std::size_t slots = std::max<std::size_t>(8, slots_.size());
  while (slots < 2 * counters_.size()) slots *= 2;
  growIndex(slots);
  total_ += other.total_;
}

std::vector<TopK::Entry> TopK::top(std::size_t k) const {
  std::vector<Entry> entries;
  top(k, entries);
  return entries;
}

void TopK::top(std::size_t k, std::vector<Entry>& out) const {
  out.clear();
  for (const Counter& c : counters_) out.push_back({itemOf(c), c.count, c.error});
  const std::size_t n = std::min(k, out.size());
  std::partial_sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n), out.end(),
                    [](const Entry& a, const Entry& b) {
                      return a.count != b.count ? a.count > b.count : a.item < b.item;
                    });
  out.resize(n);
}

std::uint64_t TopK::errorBound() const noexcept {
  return counters_.size() == capacity_ ? counters_[heap_[0]].count : 0;
}

void TopK::clear() noexcept {
  total_ = 0;
  counters_.clear();
  heap_.clear();
  std::fill(slots_.begin(), slots_.end(), kNoCounter);
  bytes_used_ = 0;
  bytes_live_ = 0;
}

std::size_t TopK::memoryBytes() const noexcept {
  return sizeof(*this) + counters_.capacity() * sizeof(Counter) +
         (heap_.capacity() + slots_.capacity() + order_.capacity()) * sizeof(std::uint32_t) +
         bytes_.capacity();
}

// Snapshot encoding (pipeline/model/snapshot.h), with n = size():
//   u64 total, u32 n, then per counter in index order: u64 count, u64 error, bytes item (u32
//   size, then the bytes); then the heap: n counter indices, u16 each (capacity <= 2^16).
// The item hashes are computed again; the index and the byte buffer's layout are rebuilt.

void TopK::snapshot(SnapshotWriter& out) const {
  out.put<std::uint64_t>(total_);
  out.put<std::uint32_t>(static_cast<std::uint32_t>(counters_.size()));
  for (const Counter& c : counters_) {
    out.put<std::uint64_t>(c.count);
    out.put<std::uint64_t>(c.error);
    out.putBytes(itemOf(c));
  }
  for (const std::uint32_t index : heap_) out.put<std::uint16_t>(static_cast<std::uint16_t>(index));
}

bool TopK::restore(SnapshotReader& in) {
  clear();
  const auto total = in.get<std::uint64_t>();
  constexpr std::size_t kMinCounterBytes = 8 + 8 + 4 + 2;
  const std::size_t n = in.getCount(kMinCounterBytes);
  bool ok = in.ok() && n <= capacity_;
  if (ok) {
    counters_.reserve(n);
    heap_.reserve(n);
    order_.reserve(n);
  }
  // Every count is at least its error + 1 (a weight is at least 1), and the counts sum to at
  // most the total (see the invariants above).
  std::uint64_t sum = 0;
  for (std::size_t i = 0; ok && i < n; ++i) {
    const auto count = in.get<std::uint64_t>();
    const auto error = in.get<std::uint64_t>();
    const std::string_view item = in.getBytes();
    ok = in.ok() && error < count && item.size() <= kMaxItemBytes &&
         !__builtin_add_overflow(sum, count, &sum) && sum <= total;
    if (!ok) break;
    const std::uint32_t offset = storeBytes(item);
    counters_.push_back(
        {count, error, hashKey(item), offset, static_cast<std::uint32_t>(item.size()), 0});
  }
  if (ok) {
    std::size_t slots = std::max<std::size_t>(8, slots_.size());
    while (slots < 2 * n) slots *= 2;
    growIndex(slots);
    // Items are distinct: each is found at its own counter.
    for (std::uint32_t i = 0; ok && i < n; ++i) {
      ok = find(counters_[i].hash, itemOf(counters_[i])) == i;
    }
  }
  // The heap: a permutation of the counters, each count at least its parent's.
  std::vector<bool> placed(ok ? n : 0);
  for (std::size_t pos = 0; ok && pos < n; ++pos) {
    const std::uint32_t index = in.get<std::uint16_t>();
    ok = in.ok() && index < n && !placed[index] &&
         (pos == 0 || counters_[heap_[(pos - 1) / 2]].count <= counters_[index].count);
    if (!ok) break;
    placed[index] = true;
    heap_.push_back(index);
    counters_[index].heap = static_cast<std::uint32_t>(pos);
  }
  if (!ok) {
    in.fail();
    clear();
    return false;
  }
  total_ = total;
  return true;
}

// The index: linear probing over a power-of-two array of counter indices, at most half full.

std::uint32_t TopK::find(std::uint64_t hash, std::string_view item) const noexcept {
  if (slots_.empty()) return kNoCounter;
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t slot = hash & mask;; slot = (slot + 1) & mask) {
    const std::uint32_t index = slots_[slot];
    if (index == kNoCounter) return kNoCounter;
    const Counter& c = counters_[index];
    if (c.hash == hash && itemOf(c) == item) return index;
  }
}

std::size_t TopK::slotOf(std::uint32_t index) const noexcept {
  const std::size_t mask = slots_.size() - 1;
  std::size_t slot = counters_[index].hash & mask;
  while (slots_[slot] != index) slot = (slot + 1) & mask;
  return slot;
}

void TopK::insertSlot(std::uint32_t index) noexcept {
  const std::size_t mask = slots_.size() - 1;
  std::size_t slot = counters_[index].hash & mask;
  while (slots_[slot] != kNoCounter) slot = (slot + 1) & mask;
  slots_[slot] = index;
}

// Backward-shift deletion (Knuth, TAOCP vol. 3, 6.4 algorithm R): later entries of the probe run
// move into the hole unless their home slot lies cyclically in (hole, their slot], so every key
// stays reachable from its home without tombstones.
void TopK::eraseSlot(std::size_t hole) noexcept {
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t slot = (hole + 1) & mask; slots_[slot] != kNoCounter; slot = (slot + 1) & mask) {
    const std::size_t home = counters_[slots_[slot]].hash & mask;
    const bool stays = hole <= slot ? (hole < home && home <= slot) : (hole < home || home <= slot);
    if (stays) continue;
    slots_[hole] = slots_[slot];
    hole = slot;
  }
  slots_[hole] = kNoCounter;
}

void TopK::growIndex(std::size_t slots) noexcept {
  slots_.assign(slots, kNoCounter);
  for (std::uint32_t i = 0; i < counters_.size(); ++i) insertSlot(i);
}

// Item bytes.

std::uint32_t TopK::storeBytes(std::string_view item) noexcept {
  const std::size_t n = item.size();
  if (bytes_used_ + n > bytes_.size()) {
    if (bytes_used_ - bytes_live_ >= bytes_used_ / 2 && bytes_used_ > 0) compact();
    if (bytes_used_ + n > bytes_.size()) {
      bytes_.resize(std::max({2 * bytes_.size(), bytes_used_ + n, std::size_t{64}}));
    }
  }
  const std::size_t offset = bytes_used_;
  if (n > 0) std::memcpy(bytes_.data() + offset, item.data(), n);
  bytes_used_ += n;
  bytes_live_ += n;
  return static_cast<std::uint32_t>(offset);
}

// Slides the live items down in offset order, over the garbage, in place.
void TopK::compact() noexcept {
  order_.resize(counters_.size());  // within the capacity reserved with counters_
  std::iota(order_.begin(), order_.end(), 0u);
  std::sort(order_.begin(), order_.end(), [this](std::uint32_t a, std::uint32_t b) {
    return counters_[a].offset < counters_[b].offset;
  });
  std::size_t to = 0;
  for (const std::uint32_t index : order_) {
    Counter& c = counters_[index];
    if (c.size > 0) std::memmove(bytes_.data() + to, bytes_.data() + c.offset, c.size);
    c.offset = static_cast<std::uint32_t>(to);
    to += c.size;
  }
  bytes_used_ = to;
}

// The heap: a binary min-heap of counter indices by count.

void TopK::siftUp(std::size_t pos) noexcept {
  const std::uint32_t index = heap_[pos];
  const std::uint64_t count = counters_[index].count;
  while (pos > 0) {
    const std::size_t parent = (pos - 1) / 2;
    if (counters_[heap_[parent]].count <= count) break;
    placeInHeap(pos, heap_[parent]);
    pos = parent;
  }
  placeInHeap(pos, index);
}

void TopK::siftDown(std::size_t pos) noexcept {
  const std::uint32_t index = heap_[pos];
  const std::uint64_t count = counters_[index].count;
  const std::size_t n = heap_.size();
  for (;;) {
    std::size_t child = 2 * pos + 1;
    if (child >= n) break;
    if (child + 1 < n && counters_[heap_[child + 1]].count < counters_[heap_[child]].count) {
      ++child;
    }
    if (counters_[heap_[child]].count >= count) break;
    placeInHeap(pos, heap_[child]);
    pos = child;
  }
  placeInHeap(pos, index);
}

}  // namespace rivulet::pipeline

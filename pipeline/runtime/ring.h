// SpscRing: a bounded, lock-free, single-producer single-consumer ring of trivially copyable
// slots, in the style of rigtorp's SPSCQueue with batched publication on both sides.
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <type_traits>

#include "pipeline/runtime/cache_line.h"

namespace rivulet::pipeline {

// Thread contract: exactly one producer thread calls the producer methods and exactly one
// consumer thread calls the consumer methods; sizeGuess() may be called from any thread.
//
// Indices are 64-bit counters that never wrap in practice (2^64 slots at 10^10/s is 58 years),
// so "full" is write - read == capacity and no slot is wasted.
//
// The producer stages slots with tryPush() and makes them visible with one release store in
// publish(); the consumer reads up to available() slots in place with at() and frees them with one
// release store in consume(n). One store per batch instead of per slot is what lets a record cost
// a few nanoseconds: the counters' cache lines move between cores once per batch.
template <typename T>
class SpscRing {
  static_assert(std::is_trivially_copyable_v<T>, "slots are copied with memcpy");

 public:
  // capacity must be a power of two, so that slot = index & mask.
  explicit SpscRing(std::size_t capacity)
      : mask_(capacity - 1), slots_(std::make_unique<T[]>(capacity)) {
    assert(capacity >= 2 && std::has_single_bit(capacity));
  }
  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  std::size_t capacity() const noexcept { return mask_ + 1; }

  // ---- producer thread ----

  // Stages n slots, all or none; they become visible to the consumer at the next publish().
  bool tryPush(const T* items, std::size_t n) noexcept {
    if (n == 0) return true;  // (and memcpy must not see an empty span's null pointer)
    if (!hasRoom(n)) return false;
    const std::uint64_t first = producer_.staged;
    const std::size_t at = first & mask_;
    const std::size_t until_end = capacity() - at;
    if (n == 1) {
      slots_[at] = *items;  // the common case, inlined: no call to memcpy for a variable size
    } else if (n <= until_end) {
      std::memcpy(&slots_[at], items, n * sizeof(T));
    } else {
      std::memcpy(&slots_[at], items, until_end * sizeof(T));
      std::memcpy(&slots_[0], items + until_end, (n - until_end) * sizeof(T));
    }
    producer_.staged = first + n;
    return true;
  }
  bool tryPush(const T& item) noexcept { return tryPush(&item, 1); }

  // Writing in place: a pointer to n free slots, contiguous in storage, that start `offset` slots
  // past the staged ones; nullptr when there is no such room (the ring is too full, or the run
  // would cross the end of the storage). The producer writes there, then stages with commit().
  T* claim(std::size_t offset, std::size_t n) noexcept {
    const std::size_t at = (producer_.staged + offset) & mask_;
    if (at + n > capacity() || !hasRoom(offset + n)) return nullptr;
    return &slots_[at];
  }

  // Stages the next n slots, written through claim().
  void commit(std::size_t n) noexcept { producer_.staged += n; }

  // Makes every staged slot visible. Release: the slot contents written before happen-before the
  // consumer's acquire load of write_ that observes this value.
  void publish() noexcept {
    if (producer_.staged != producer_.published) {
      write_.value.store(producer_.staged, std::memory_order_release);
      producer_.published = producer_.staged;
    }
  }

  // Slots staged but not yet published.
  std::size_t staged() const noexcept { return producer_.staged - producer_.published; }

  // Whether n more slots can be staged now. Refreshes the cached read index (acquire) only when
  // the cache says there is no room.
  bool hasRoom(std::size_t n) noexcept {
    if (producer_.staged + n - producer_.read_cache <= capacity()) return true;
    producer_.read_cache = read_.value.load(std::memory_order_acquire);
    return producer_.staged + n - producer_.read_cache <= capacity();
  }

  // ---- consumer thread ----

  // Number of published slots not yet consumed. Refreshes the cached write index only when the
  // cache says the ring is empty, so a busy consumer touches the producer's line once per batch.
  std::size_t available() noexcept {
    std::size_t n = consumer_.write_cache - consumer_.read;
    if (n == 0) {
      consumer_.write_cache = write_.value.load(std::memory_order_acquire);
      n = consumer_.write_cache - consumer_.read;
    }
    return n;
  }

  // The i-th unconsumed slot; i < available().
  const T& at(std::size_t i) const noexcept { return slots_[(consumer_.read + i) & mask_]; }

  // Slots from at(i) to the end of the storage, where at() wraps around to slot 0.
  std::size_t contiguous(std::size_t i) const noexcept {
    return capacity() - ((consumer_.read + i) & mask_);
  }

  // Frees n slots (n <= available()). Release: our reads of those slots happen-before the
  // producer's acquire load of read_ that lets it overwrite them.
  void consume(std::size_t n) noexcept {
    assert(n <= consumer_.write_cache - consumer_.read && "consume more than available()");
    consumer_.read += n;
    read_.value.store(consumer_.read, std::memory_order_release);
  }

  // ---- any thread ----

  // Occupancy at some recent moment; for metrics only. The two relaxed loads may be reordered
  // (on weakly ordered CPUs) and the indices move meanwhile, hence the clamp to [0, capacity].
  std::size_t sizeGuess() const noexcept {
    const std::uint64_t w = write_.value.load(std::memory_order_relaxed);
    const std::uint64_t r = read_.value.load(std::memory_order_relaxed);
    return w >= r ? std::min(static_cast<std::size_t>(w - r), capacity()) : 0;
  }

 private:
  // Each group below is written by one thread only and lives on its own pair of cache lines:
  // the two published counters are what crosses cores, and they must not drag the private
  // fields of either side along with them.
  struct alignas(kFalseSharingRange) ProducerState {
    std::uint64_t staged = 0;      // next slot to write
    std::uint64_t published = 0;   // last value stored to write_
    std::uint64_t read_cache = 0;  // last seen read_
  };
  struct alignas(kFalseSharingRange) ConsumerState {
    std::uint64_t read = 0;         // next slot to read
    std::uint64_t write_cache = 0;  // last seen write_
  };
  struct alignas(kFalseSharingRange) Counter {
    std::atomic<std::uint64_t> value{0};
  };

  const std::size_t mask_;
  const std::unique_ptr<T[]> slots_;
  ProducerState producer_;
  Counter write_;  // written by the producer, read by the consumer
  Counter read_;   // written by the consumer, read by the producer
  ConsumerState consumer_;

  static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
  static_assert(sizeof(Counter) == kFalseSharingRange &&
                sizeof(ProducerState) == kFalseSharingRange);
};

}  // namespace rivulet::pipeline

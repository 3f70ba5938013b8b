// SketchPool: the sketches behind the sketch aggregates (quantile, count_distinct, top_k) of one
// window state owner, e.g. a WindowOperator. A sketch aggregate's state word holds a handle into
// the pool rather than the sketch itself, so that states stay fixed-size arrays of words that
// tables can store, clear and copy. Released sketches are cleared (which keeps their buffers) and
// handed out again, so once the pool has as many sketches as the owner ever holds at once, and
// they have grown to the data, the steady state allocates nothing.
//
// Thread contract: none. A pool belongs to its owner and is used on that owner's thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <utility>
#include <vector>

#include "pipeline/sketches/distinct_counter.h"
#include "pipeline/sketches/quantile_sketch.h"
#include "pipeline/sketches/top_k.h"

namespace rivulet::pipeline {

class Aggregates;

// Sketches of one kind and configuration, by handle.
template <typename Sketch>
class SketchStore {
 public:
  // New sketches are copies of `empty`.
  explicit SketchStore(Sketch empty) : empty_(std::move(empty)) {}

  // A handle to an empty sketch, reused if one was released.
  std::uint32_t acquire() {
    if (!free_.empty()) {
      const std::uint32_t handle = free_.back();
      free_.pop_back();
      return handle;
    }
    // A deque: earlier sketches stay where they are, so references to them stay valid.
    sketches_.push_back(empty_);
    // So that release() never allocates.
    free_.reserve(sketches_.size());
    return static_cast<std::uint32_t>(sketches_.size() - 1);
  }
  Sketch& operator[](std::uint32_t handle) noexcept { return sketches_[handle]; }
  const Sketch& operator[](std::uint32_t handle) const noexcept { return sketches_[handle]; }
  // Clears the sketch and takes it back.
  void release(std::uint32_t handle) noexcept {
    sketches_[handle].clear();
    free_.push_back(handle);
  }

  std::size_t size() const noexcept { return sketches_.size(); }  // ever made
  std::size_t inUse() const noexcept { return sketches_.size() - free_.size(); }
  std::size_t memoryBytes() const noexcept {
    std::size_t bytes = 0;
    for (const Sketch& s : sketches_) bytes += s.memoryBytes();
    return bytes;
  }

 private:
  Sketch empty_;
  std::deque<Sketch> sketches_;
  std::vector<std::uint32_t> free_;
};

class SketchPool {
 public:
  // Ready for the sketch aggregates of `aggregates`.
  explicit SketchPool(const Aggregates& aggregates);

  SketchStore<QuantileSketch>& quantiles() noexcept { return quantiles_; }
  const SketchStore<QuantileSketch>& quantiles() const noexcept { return quantiles_; }
  SketchStore<DistinctCounter>& distinctCounters() noexcept { return distinct_; }
  const SketchStore<DistinctCounter>& distinctCounters() const noexcept { return distinct_; }
  // One store per top_k aggregate, in the order of Aggregates::topKCapacities().
  SketchStore<TopK>& topK(std::size_t index) noexcept { return top_k_[index]; }
  const SketchStore<TopK>& topK(std::size_t index) const noexcept { return top_k_[index]; }

  // Scratch for merging top-k summaries and for listing one's top items.
  TopK::MergeScratch& topKMergeScratch() noexcept { return merge_scratch_; }
  std::vector<TopK::Entry>& topKEntries() noexcept { return entries_; }

  // Sketches held by states (made and not released).
  std::size_t inUse() const noexcept;
  // Sketches ever made: in use or free.
  std::size_t size() const noexcept;
  // Bytes owned by every sketch made (free ones keep their buffers).
  std::size_t memoryBytes() const noexcept;

 private:
  SketchStore<QuantileSketch> quantiles_;
  SketchStore<DistinctCounter> distinct_;
  std::vector<SketchStore<TopK>> top_k_;
  TopK::MergeScratch merge_scratch_;
  std::vector<TopK::Entry> entries_;
};

}  // namespace rivulet::pipeline

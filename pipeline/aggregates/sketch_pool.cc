#include "pipeline/aggregates/sketch_pool.h"

#include "pipeline/aggregates/aggregate.h"

namespace rivulet::pipeline {

SketchPool::SketchPool(const Aggregates& aggregates)
    : quantiles_(QuantileSketch()), distinct_(DistinctCounter()) {
  for (const std::size_t capacity : aggregates.topKCapacities()) {
    top_k_.emplace_back(TopK(capacity));
  }
}

std::size_t SketchPool::inUse() const noexcept {
  std::size_t n = quantiles_.inUse() + distinct_.inUse();
  for (const SketchStore<TopK>& store : top_k_) n += store.inUse();
  return n;
}

std::size_t SketchPool::size() const noexcept {
  std::size_t n = quantiles_.size() + distinct_.size();
  for (const SketchStore<TopK>& store : top_k_) n += store.size();
  return n;
}

std::size_t SketchPool::memoryBytes() const noexcept {
  std::size_t bytes = quantiles_.memoryBytes() + distinct_.memoryBytes();
  for (const SketchStore<TopK>& store : top_k_) bytes += store.memoryBytes();
  return bytes;
}

}  // namespace rivulet::pipeline

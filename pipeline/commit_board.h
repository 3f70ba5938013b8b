// CommitBoard: at-least-once commits. A source that can commit (Kafka) sends numbered commit marks
// in-band through its rings; each stage passes a mark on to the publisher once every window holding
// an event from before the mark has been published, and the publisher, once it has handed those
// results to the outputs, records the mark here. A mark every stage has recorded is safe: the
// source may commit the offsets it noted with it.
//
// Thread contract: ack() on the publisher thread; safe() on any thread (the source's).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace rivulet::pipeline {

class CommitBoard {
 public:
  CommitBoard(std::size_t sources, std::size_t stages)
      : stages_(stages), acked_(std::make_unique<std::atomic<std::uint64_t>[]>(sources * stages)) {}

  // Stage `stage` has published everything owed to mark `seq` of source `source`. A stage passes
  // a source's marks on in order, so this only grows. Release, pairing with safe()'s acquire: the
  // results the mark covers were handed to the outputs and flushed before this store, and a
  // source's commit must come after that, never before.
  void ack(std::size_t source, std::size_t stage, std::uint64_t seq) noexcept {
    acked_[source * stages_ + stage].store(seq, std::memory_order_release);
  }

  // The latest mark of `source` that every stage has acknowledged; 0 if none (and with no stage,
  // where nothing was acknowledged).
  std::uint64_t safe(std::size_t source) const noexcept {
    if (stages_ == 0) return 0;
    std::uint64_t seq = UINT64_MAX;
    for (std::size_t i = 0; i < stages_; ++i) {
      seq = std::min(seq, acked_[source * stages_ + i].load(std::memory_order_acquire));
    }
    return seq;
  }

 private:
  // One dense array, no padding: the publisher is its only writer, and sources read it once per
  // commit interval, so no line of it is contended. Each entry a lock-free word.
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free &&
                sizeof(std::atomic<std::uint64_t>) == sizeof(std::uint64_t));

  std::size_t stages_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> acked_;
};

}  // namespace rivulet::pipeline

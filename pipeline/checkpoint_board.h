// CheckpointBoard: where the threads of an aligned checkpoint (Flink's asynchronous barrier
// snapshots, after Chandy and Lamport) leave their parts, and how the coordinator starts one and
// learns it is complete. The same barriers carry a live reload's switch to another set of
// pipelines (pipeline/reconfiguration.h): each thread switches as the barrier passes it, so the
// events before it are aggregated by the old pipelines and those after it by the new ones.
//
// The coordinator (daemon/checkpoints/checkpointer.h) requests checkpoint `id`. Each source, at its
// next flush, notes its position here and sends barrier `id` to every stage, after the events
// routed before it. A stage that has the barrier from every input snapshots its state here and
// passes the barrier to the publisher, behind the results it fired before it. It writes its part
// while it goes on (the state as it was at the barrier: Operator::beginSnapshot) and, once it is
// written, tells the publisher (kSnapshotDone). The publisher, once every stage's barrier is in and
// those results are handed to the outputs, notes its own state, and once every stage's part is in,
// completes the checkpoint. The parts then describe one consistent cut: every event before a
// source's position is in the stages' state or in results already out, no event after it is.
//
// Thread contract: request() and the readers of the parts on the coordinator's thread, only
// between complete() of one checkpoint and request() of the next; each slot written only by its
// own thread, only while the checkpoint it belongs to is requested and not complete (a source's
// final position: see setFinal); a stage's part points into buffers it leaves alone until the
// next request. The rings order the writes: a source's slot before its barrier (ring release),
// a stage's before its kSnapshotDone to the publisher, everything before complete() (release),
// which the coordinator reads with acquire.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/runtime/cache_line.h"

namespace rivulet::pipeline {

struct Reconfiguration;

class CheckpointBoard {
 public:
  // `checkpointing`: daemon.checkpoint is on. Without it the board only carries reconfigurations.
  CheckpointBoard(std::size_t sources, std::size_t stages, bool checkpointing)
      : checkpointing_(checkpointing),
        sources_(sources),
        finals_(sources),
        stages_(stages),
        stage_pauses_(stages, 0) {
    // Here, where the class is complete: the layout the members' alignment is for.
    static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
    static_assert(offsetof(CheckpointBoard, completed_) - offsetof(CheckpointBoard, requested_) >=
                      kFalseSharingRange &&
                  offsetof(CheckpointBoard, durable_) - offsetof(CheckpointBoard, completed_) >=
                      kFalseSharingRange);
  }

  bool checkpointing() const noexcept { return checkpointing_; }

  // Coordinator, before the threads start: ids go on from `id`, the checkpoint restored.
  void resume(std::uint64_t id) noexcept {
    // Relaxed: starting the threads orders these before anything they read.
    requested_.store(id, std::memory_order_relaxed);
    completed_.store(id, std::memory_order_relaxed);
  }
  // Coordinator: the id the next request takes.
  std::uint64_t nextId() const noexcept { return requested() + 1; }
  // Coordinator: no barrier in flight, so another may be requested.
  bool idle() const noexcept { return completed() == requested(); }
  // Coordinator, only when idle(): starts barrier `id` (nextId()). Without `change` it is
  // checkpoint `id`; with one it is a switch to its pipelines and takes no snapshot. `change`
  // must stay valid until complete(id).
  void request(std::uint64_t id, const Reconfiguration* change = nullptr) noexcept {
    change_ = change;
    // Release: publishes change_ with the id (see requested()).
    requested_.store(id, std::memory_order_release);
  }
  // The threads, at the barrier of the request in flight: its change, null for a checkpoint.
  const Reconfiguration* change() const noexcept { return change_; }
  // Sources: the latest requested checkpoint; 0 before the first. Acquire, pairing with
  // request()'s release: a source that sees the new id reads change() next, and this is what
  // makes change_ (and the Reconfiguration it points to) visible to it; the stages and the
  // publisher read change() later, ordered after this load by the rings. Not relaxed, though
  // the id alone would not need it. (On x86 the acquire costs nothing over a relaxed load.)
  std::uint64_t requested() const noexcept { return requested_.load(std::memory_order_acquire); }

  // Source `i`'s position at its barrier for checkpoint `id`.
  void setSource(std::size_t i, std::uint64_t id, std::string position) {
    sources_[i] = Position{id, std::move(position)};
  }
  // Source `i`'s position at the end of its stream, written once, before its end record: a
  // checkpoint whose barrier the source never sent (it had ended) covers all its events. Read
  // only for such a checkpoint, so never while it is written.
  void setFinal(std::size_t i, std::string position) { finals_[i] = std::move(position); }
  // Coordinator, once checkpoint `id` is complete: every source's position in it.
  std::vector<std::string> positions(std::uint64_t id) const {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < sources_.size(); ++i) {
      out.push_back(sources_[i].id == id ? sources_[i].position : finals_[i]);
    }
    return out;
  }

  // Stage `i`'s part: the concatenation of `pieces`, which point into buffers the stage leaves
  // alone until the next request (so the stage hands over its part without copying it).
  void setStage(std::size_t i, std::vector<std::string_view> pieces) {
    stages_[i] = std::move(pieces);
  }
  std::string& publisher() noexcept { return publisher_; }
  // Coordinator: every stage's part, whole, into `out`, whose strings keep their buffers from one
  // checkpoint to the next (fresh ones of megabytes would fault in every page again).
  void copyStages(std::vector<std::string>& out) const {
    out.resize(stages_.size());
    for (std::size_t i = 0; i < stages_.size(); ++i) {
      std::size_t size = 0;
      for (const std::string_view piece : stages_[i]) size += piece.size();
      out[i].clear();
      out[i].reserve(size);
      for (const std::string_view piece : stages_[i]) out[i].append(piece);
    }
  }
  std::vector<std::string> stages() const {
    std::vector<std::string> out;
    copyStages(out);
    return out;
  }
  // The longest stage `i` stopped processing at a time to write its part (ns), noted with it.
  std::int64_t& stagePause(std::size_t i) noexcept { return stage_pauses_[i]; }
  std::int64_t longestStagePause() const noexcept {
    return stage_pauses_.empty() ? 0
                                 : *std::max_element(stage_pauses_.begin(), stage_pauses_.end());
  }

  // Publisher: every part of checkpoint `id` is written. Release, pairing with completed()'s
  // acquire: the coordinator that sees `id` reads the parts every thread wrote (each ordered
  // before this store by the barriers' rings).
  void complete(std::uint64_t id) noexcept { completed_.store(id, std::memory_order_release); }
  std::uint64_t completed() const noexcept { return completed_.load(std::memory_order_acquire); }

  // Durability, for sources that confirm their position elsewhere once a checkpoint holds it
  // (Kafka commits its offsets only then). Coordinator: checkpoint `id` is on disk (file renamed,
  // directory synced). Sources: the latest such id, 0 before the first, polled on their own
  // threads. Relaxed: a source reads nothing the coordinator wrote because of it (it compares the
  // id with positions it noted itself), and a late look only delays a commit.
  void setDurable(std::uint64_t id) noexcept { durable_.store(id, std::memory_order_relaxed); }
  std::uint64_t durable() const noexcept { return durable_.load(std::memory_order_relaxed); }

 private:
  // Each id on a range of its own: requested_ is read by every source at every flush and
  // durable_ polled by Kafka sources, while completed_ is written by the publisher; none of those
  // reads should miss its cache for a write to another.
  alignas(kFalseSharingRange) std::atomic<std::uint64_t> requested_{0};
  alignas(kFalseSharingRange) std::atomic<std::uint64_t> completed_{0};
  const bool checkpointing_;
  const Reconfiguration* change_ = nullptr;  // written before requested_, read after it
  alignas(kFalseSharingRange) std::atomic<std::uint64_t> durable_{0};
  struct Position {
    std::uint64_t id = 0;  // the checkpoint it was noted for
    std::string position;
  };
  std::vector<Position> sources_;
  std::vector<std::string> finals_;
  std::vector<std::vector<std::string_view>> stages_;
  std::vector<std::int64_t> stage_pauses_;
  std::string publisher_;
};

}  // namespace rivulet::pipeline

// Checkpointer: the coordinator of the checkpoints (pipeline/checkpoint_board.h). Every
// `interval` it requests one; when the publisher completes it, it writes the parts to the
// checkpoint file (daemon/checkpoints/checkpoint_file.h). One barrier is in flight at a time: the
// next checkpoint is requested only after the last is on disk and no reload's barrier is in flight,
// so the threads' slots are never written and read at once.
//
// Thread contract: tick() and checkpointNow() on one control thread (the daemon's main thread);
// the stats on any.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "config/config.h"
#include "daemon/checkpoints/checkpoint_file.h"
#include "pipeline/checkpoint_board.h"

namespace rivulet::daemon {

struct CheckpointStats {
  std::atomic<std::uint64_t> written{0};
  std::atomic<std::uint64_t> failed{0};
  std::atomic<std::int64_t> last_bytes{0};
  std::atomic<std::int64_t> last_duration_ns{0};  // request to durable
  std::atomic<std::int64_t> last_taken_at{0};     // wall clock, ns; 0 before the first
};

class Checkpointer {
 public:
  // Ids go on from the board's (resumed from the checkpoint restored at start).
  Checkpointer(const config::CheckpointSpec& spec, pipeline::CheckpointBoard& board,
               std::uint64_t fingerprint, std::vector<std::string> source_names);

  // The fingerprint of the config the next checkpoints are taken under (after a reload).
  void setFingerprint(std::uint64_t fingerprint) noexcept { fingerprint_ = fingerprint; }

  // Requests a checkpoint when one is due, and writes one the threads have completed. Call
  // often (every ~50 ms); `steady` is the monotonic clock (ns).
  void tick(std::int64_t steady);
  // For a stop: requests a checkpoint now (or waits for the one in flight) and writes it, waiting
  // up to `timeout_ns` and calling `waiting` every ~2 ms meanwhile (the service's keep-alive).
  // False if none was written in time (an error is logged).
  bool checkpointNow(std::int64_t timeout_ns, const std::function<void()>& waiting);

  const CheckpointStats& stats() const noexcept { return stats_; }

 private:
  // Requests the next checkpoint, unless another barrier is in flight (then: false).
  bool request(std::int64_t steady);
  // Writes the checkpoint in flight if the publisher has completed it; true when it did.
  bool writeCompleted(std::int64_t steady);

  const config::CheckpointSpec spec_;
  pipeline::CheckpointBoard& board_;
  std::uint64_t fingerprint_;
  const std::vector<std::string> source_names_;
  std::uint64_t id_ = 0;  // the checkpoint in flight
  bool in_flight_ = false;
  std::int64_t requested_at_ = 0;
  std::int64_t due_;
  CheckpointStats stats_;
  // Kept from one checkpoint to the next: the parts copied off the board and the file's bytes.
  CheckpointData data_;
  pipeline::SnapshotWriter encoded_;
};

}  // namespace rivulet::daemon

#include "daemon/checkpoints/checkpointer.h"

#include <time.h>

#include <cstdio>

#include "daemon/checkpoints/checkpoint_file.h"
#include "daemon/log.h"
#include "pipeline/runtime/clock.h"

namespace rivulet::daemon {

Checkpointer::Checkpointer(const config::CheckpointSpec& spec, pipeline::CheckpointBoard& board,
                           std::uint64_t fingerprint, std::vector<std::string> source_names)
    : spec_(spec),
      board_(board),
      fingerprint_(fingerprint),
      source_names_(std::move(source_names)),
      due_(pipeline::steadyNanos() + spec.interval) {}

void Checkpointer::tick(std::int64_t steady) {
  if (in_flight_) {
    writeCompleted(steady);
  } else if (steady >= due_) {
    request(steady);
  }
}

bool Checkpointer::request(std::int64_t steady) {
  if (!board_.idle()) return false;  // a reload's barrier: the checkpoint follows it
  in_flight_ = true;
  requested_at_ = steady;
  id_ = board_.nextId();
  board_.request(id_);
  return true;
}

bool Checkpointer::writeCompleted(std::int64_t steady) {
  const std::uint64_t id = id_;
  if (board_.completed() < id) return false;
  CheckpointData& data = data_;
  data.fingerprint = fingerprint_;
  data.id = id;
  data.taken_at = pipeline::wallNanos();
  data.source_names = source_names_;
  data.sources = board_.positions(id);
  board_.copyStages(data.stages);
  data.publisher = board_.publisher();
  encoded_.clear();
  encodeCheckpoint(data, encoded_);
  const std::string_view bytes = encoded_.bytes();
  std::string error;
  const bool written = writeCheckpoint(spec_.dir, bytes, error);
  const std::int64_t took = pipeline::steadyNanos() - requested_at_;  // request to durable
  if (written) {
    board_.setDurable(id);
    stats_.written.fetch_add(1, std::memory_order_relaxed);
    stats_.last_bytes.store(static_cast<std::int64_t>(bytes.size()), std::memory_order_relaxed);
    stats_.last_duration_ns.store(took, std::memory_order_relaxed);
    stats_.last_taken_at.store(data.taken_at, std::memory_order_relaxed);
    char ms[64];
    std::snprintf(ms, sizeof ms, "%.3f ms; stages paused up to %.3f ms",
                  static_cast<double>(took) / 1e6,
                  static_cast<double>(board_.longestStagePause()) / 1e6);
    logDebug("checkpoint " + std::to_string(id) + " written: " + std::to_string(bytes.size()) +
             " bytes in " + ms);
  } else {
    stats_.failed.fetch_add(1, std::memory_order_relaxed);
    logError("checkpoint " + std::to_string(id) + " not written: " + error);
  }
  in_flight_ = false;
  due_ = steady + spec_.interval;
  return true;
}

bool Checkpointer::checkpointNow(std::int64_t timeout_ns, const std::function<void()>& waiting) {
  const std::int64_t deadline = pipeline::steadyNanos() + timeout_ns;
  // A checkpoint in flight was requested before the stop: it does not cover what came since.
  for (int round = in_flight_ ? 0 : 1; round < 2; ++round) {
    const std::uint64_t written = stats_.written.load(std::memory_order_relaxed);
    for (;;) {
      const std::int64_t now = pipeline::steadyNanos();
      // Requested once no reload's barrier is in flight.
      if (!in_flight_) request(now);
      if (in_flight_ && writeCompleted(now)) break;
      if (now >= deadline) {
        logError(
            "no checkpoint at stop within the time allowed: the next start resumes from "
            "the last one");
        return false;
      }
      waiting();
      const timespec nap{0, 2'000'000};
      nanosleep(&nap, nullptr);
    }
    if (round == 1) return stats_.written.load(std::memory_order_relaxed) > written;
  }
  return false;
}

}  // namespace rivulet::daemon

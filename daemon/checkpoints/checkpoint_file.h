// The checkpoint file: one consistent cut of the daemon (pipeline/checkpoint_board.h) on disk.
//
// Layout (integers little-endian, strings [size:u32][bytes], pipeline/model/snapshot.h):
//   "RIVULETC"  [format version:u32]  [fingerprint:u64]  [id:u64]  [taken at, wall ns:i64]
//   [sources:u32] per source: [name][position]
//   [stages:u32]  per stage: [state]
//   [publisher state]
//   [checksum:u64]  of every byte before it
// The fingerprint is of what the state's meaning depends on (the pipelines, the number of
// stages, the sources): a checkpoint of another configuration is refused, not misread.
//
// Written atomically: a temporary file, fsync, rename over `checkpoint`, fsync of the directory.
// After a crash at any point the directory holds the previous checkpoint or the new one, whole.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline/model/snapshot.h"

namespace rivulet::daemon {

// Raised whenever the encoding of any part changes, so that an older file is refused rather than
// misread (docs/architecture.md, "Checkpointed state", lists the versions).
inline constexpr std::uint32_t kCheckpointVersion = 4;

struct CheckpointData {
  std::uint64_t fingerprint = 0;
  std::uint64_t id = 0;
  std::int64_t taken_at = 0;  // wall clock, ns
  std::vector<std::string> source_names;
  std::vector<std::string> sources;  // positions, parallel to source_names
  std::vector<std::string> stages;
  std::string publisher;
};

// Into `out`, after what it holds (the checkpointer reuses one writer, and its pages).
void encodeCheckpoint(const CheckpointData& data, pipeline::SnapshotWriter& out);
std::string encodeCheckpoint(const CheckpointData& data);

struct CheckpointRead {
  enum class Status { kNone, kOk, kCorrupt, kIncompatible };
  Status status = Status::kNone;
  std::string message;  // what is wrong, for kCorrupt and kIncompatible
  CheckpointData data;
};
// The checksum that ends a checkpoint, of every byte before it.
std::uint64_t checkpointChecksum(std::string_view bytes);
// Decodes a checkpoint's bytes; `fingerprint` is the running configuration's.
CheckpointRead decodeCheckpoint(std::string_view bytes, std::uint64_t fingerprint);

// The path of the checkpoint in `dir`.
std::string checkpointPath(const std::string& dir);
// Reads the checkpoint in `dir`: kNone when there is none yet.
CheckpointRead readCheckpoint(const std::string& dir, std::uint64_t fingerprint);
// Writes `bytes` as the checkpoint in `dir` (created if missing), durably; false with `error`.
bool writeCheckpoint(const std::string& dir, std::string_view bytes, std::string& error);
// Moves the checkpoint in `dir` aside (to checkpoint.discarded), for --discard-checkpoint.
bool discardCheckpoint(const std::string& dir, std::string& error);

}  // namespace rivulet::daemon

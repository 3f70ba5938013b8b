#include "daemon/checkpoints/checkpoint_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string_view>

#include "pipeline/model/hash.h"
#include "pipeline/model/snapshot.h"

namespace rivulet::daemon {
namespace {

constexpr std::string_view kMagic = "RIVULETC";
constexpr std::size_t kChecksumBytes = sizeof(std::uint64_t);

std::string errnoText(const std::string& what) { return what + ": " + std::strerror(errno); }

// Writes all of `bytes` to `fd`.
bool writeAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool syncDirectory(const std::string& dir) {
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = fsync(fd) == 0;
  close(fd);
  return ok;
}

}  // namespace

std::uint64_t checkpointChecksum(std::string_view bytes) {
  return pipeline::hash_detail::foldBytes(pipeline::hash_detail::kSeed ^ bytes.size(), bytes);
}

void encodeCheckpoint(const CheckpointData& data, pipeline::SnapshotWriter& out) {
  const std::size_t start = out.size();
  for (const char c : kMagic) out.put(c);
  out.put(kCheckpointVersion);
  out.put(data.fingerprint);
  out.put(data.id);
  out.put(data.taken_at);
  out.put<std::uint32_t>(static_cast<std::uint32_t>(data.sources.size()));
  for (std::size_t i = 0; i < data.sources.size(); ++i) {
    out.putBytes(data.source_names[i]);
    out.putBytes(data.sources[i]);
  }
  out.put<std::uint32_t>(static_cast<std::uint32_t>(data.stages.size()));
  for (const std::string& stage : data.stages) out.putBytes(stage);
  out.putBytes(data.publisher);
  out.put(checkpointChecksum(out.bytes().substr(start)));
}

std::string encodeCheckpoint(const CheckpointData& data) {
  pipeline::SnapshotWriter out;
  encodeCheckpoint(data, out);
  return out.take();
}

CheckpointRead decodeCheckpoint(std::string_view bytes, std::uint64_t fingerprint) {
  CheckpointRead read;
  const auto corrupt = [&](std::string message) {
    read.status = CheckpointRead::Status::kCorrupt;
    read.message = std::move(message);
    read.data = {};
    return read;
  };
  if (bytes.size() < kMagic.size() || bytes.substr(0, kMagic.size()) != kMagic) {
    return corrupt("not a rivulet checkpoint");
  }
  if (bytes.size() < kMagic.size() + kChecksumBytes) return corrupt("truncated");
  const std::string_view body = bytes.substr(0, bytes.size() - kChecksumBytes);
  pipeline::SnapshotReader tail(bytes.substr(body.size()));
  if (tail.get<std::uint64_t>() != checkpointChecksum(body)) return corrupt("checksum mismatch");

  pipeline::SnapshotReader in(body.substr(kMagic.size()));
  const auto version = in.get<std::uint32_t>();
  if (version != kCheckpointVersion) {
    read.status = CheckpointRead::Status::kIncompatible;
    read.message = "format version " + std::to_string(version) + ", this rivuletd reads " +
                   std::to_string(kCheckpointVersion);
    return read;
  }
  CheckpointData& data = read.data;
  data.fingerprint = in.get<std::uint64_t>();
  data.id = in.get<std::uint64_t>();
  data.taken_at = in.get<std::int64_t>();
  const std::uint32_t sources = in.getCount(2 * sizeof(std::uint32_t));
  for (std::uint32_t i = 0; i < sources && in.ok(); ++i) {
    data.source_names.emplace_back(in.getBytes());
    data.sources.emplace_back(in.getBytes());
  }
  const std::uint32_t stages = in.getCount(sizeof(std::uint32_t));
  for (std::uint32_t i = 0; i < stages && in.ok(); ++i) data.stages.emplace_back(in.getBytes());
  data.publisher = in.getBytes();
  if (!in.done()) return corrupt("malformed (its checksum matched: written by another version?)");
  if (data.fingerprint != fingerprint) {
    read.status = CheckpointRead::Status::kIncompatible;
    read.message =
        "taken with other pipelines, sources or stages than this config has (pipelines, "
        "windows, aggregates, group_by and daemon.stages must stay the same to restore state)";
    return read;
  }
  read.status = CheckpointRead::Status::kOk;
  return read;
}

std::string checkpointPath(const std::string& dir) { return dir + "/checkpoint"; }

CheckpointRead readCheckpoint(const std::string& dir, std::uint64_t fingerprint) {
  CheckpointRead read;
  const std::string path = checkpointPath(dir);
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    if (errno != ENOENT) {
      read.status = CheckpointRead::Status::kCorrupt;
      read.message = errnoText("cannot open " + path);
    }
    return read;
  }
  std::string bytes;
  char buffer[64 * 1024];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) bytes.append(buffer, n);
  const bool failed = std::ferror(file) != 0;
  std::fclose(file);
  if (failed) {
    read.status = CheckpointRead::Status::kCorrupt;
    read.message = "cannot read " + path;
    return read;
  }
  return decodeCheckpoint(bytes, fingerprint);
}

bool writeCheckpoint(const std::string& dir, std::string_view bytes, std::string& error) {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    error = errnoText("cannot create " + dir);
    return false;
  }
  const std::string path = checkpointPath(dir);
  const std::string temporary = path + ".tmp";
  const int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = errnoText("cannot create " + temporary);
    return false;
  }
  const bool written = writeAll(fd, bytes) && fsync(fd) == 0;
  const int saved = errno;
  close(fd);
  if (!written) {
    errno = saved;
    error = errnoText("cannot write " + temporary);
    unlink(temporary.c_str());
    return false;
  }
  if (rename(temporary.c_str(), path.c_str()) != 0) {
    error = errnoText("cannot rename " + temporary);
    unlink(temporary.c_str());
    return false;
  }
  if (!syncDirectory(dir)) {
    error = errnoText("cannot sync " + dir);
    return false;
  }
  return true;
}

bool discardCheckpoint(const std::string& dir, std::string& error) {
  const std::string path = checkpointPath(dir);
  if (rename(path.c_str(), (path + ".discarded").c_str()) != 0 && errno != ENOENT) {
    error = errnoText("cannot move " + path + " aside");
    return false;
  }
  return syncDirectory(dir) || errno == ENOENT;
}

}  // namespace rivulet::daemon

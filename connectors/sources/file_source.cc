#include "connectors/sources/file_source.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include "connectors/formats/event_decoder.h"
#include "connectors/formats/line_framer.h"
#include "pipeline/model/snapshot.h"
#include "pipeline/runtime/clock.h"

namespace rivulet::connectors {
namespace {
constexpr int kPollMs = 20;  // how soon appended data or a stop request is noticed
constexpr std::size_t kMaxLine = 1 << 20;
}  // namespace

FileSource::FileSource(const config::SourceConfig& spec, pipeline::EventRouter router)
    : spec_(spec), router_(std::move(router)) {
  const std::string& path = spec_.file.path;
  fd_ = path == "-" ? dup(STDIN_FILENO) : open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    throw std::runtime_error("source " + spec_.name + ": cannot open \"" + path +
                             "\": " + std::strerror(errno));
  }
  struct stat st {};
  regular_ = fstat(fd_, &st) == 0 && S_ISREG(st.st_mode);
  device_ = st.st_dev;
  inode_ = st.st_ino;
  // [device:u64][inode:u64][offset:u64][CSV header line]; empty for stdin and pipes.
  router_.setPosition([this] {
    if (!regular_) return std::string();
    pipeline::SnapshotWriter out;
    out.put(device_);
    out.put(inode_);
    out.put(offset_);
    out.putBytes(header_);
    return out.take();
  });
}

bool FileSource::restore(std::string_view position) {
  if (position.empty()) return true;
  pipeline::SnapshotReader in(position);
  const auto device = in.get<std::uint64_t>();
  const auto inode = in.get<std::uint64_t>();
  const auto offset = in.get<std::uint64_t>();
  const std::string_view header = in.getBytes();
  if (!in.done()) return false;
  struct stat st {};
  if (!regular_ || fstat(fd_, &st) != 0 || st.st_dev != device || st.st_ino != inode ||
      static_cast<std::uint64_t>(st.st_size) < offset) {
    return true;  // another file now: from its start
  }
  if (lseek(fd_, static_cast<off_t>(offset), SEEK_SET) < 0) return true;
  offset_ = offset;
  header_ = header;
  return true;
}

FileSource::~FileSource() {
  if (fd_ >= 0) close(fd_);
}

void FileSource::run(std::stop_token stop) {
  LineFramer framer(kMaxLine);
  EventDecoder decoder(router_, spec_);
  EventDecoder::Stream stream;
  const bool csv_header = spec_.format == config::Format::kCsv && spec_.csv.header;
  if (csv_header && !header_.empty()) {
    // Resumed past the header: the decoder reads it again, from the position.
    std::string padded = header_;
    padded.resize(header_.size() + LineFramer::kPadding);
    decoder.line(stream, {padded.data(), header_.size()}, padded.size(), pipeline::wallNanos());
  }
  const auto on_line = [&](std::string_view line, std::size_t capacity, std::int64_t now) {
    if (csv_header && !stream.header_read) header_.assign(line);
    decoder.line(stream, line, capacity, now);
  };
  const auto on_too_long = [&] { decoder.refuse(pipeline::ErrorReason::kLineTooLong); };
  const bool regular = regular_;
  std::uint64_t consumed = offset_;  // bytes of the file read so far
  bool stopped = false;
  for (;;) {
    if (stop.stop_requested()) {
      stopped = true;
      break;
    }
    if (!regular) {
      // Pipes and terminals: wait with a timeout, so a stop request is seen without input.
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, kPollMs) == 0) {
        router_.flush(pipeline::wallNanos(), pipeline::steadyNanos());
        continue;
      }
    }
    const std::span<char> into = framer.writable();
    const ssize_t n = read(fd_, into.data(), into.size());
    const std::int64_t now = pipeline::wallNanos();
    if (n > 0) {
      framer.commit(
          static_cast<std::size_t>(n),
          [&](std::string_view line, std::size_t capacity) { on_line(line, capacity, now); },
          on_too_long);
      consumed += static_cast<std::uint64_t>(n);
      offset_ = consumed - framer.pending();
      router_.flush(now, pipeline::steadyNanos());
      continue;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    // End of file (or a read error, which ends the input the same way). Following a regular
    // file, wait for it to grow; a pipe at end of file has no writer left.
    if (n < 0 || !spec_.file.follow || !regular) break;
    router_.flush(now, pipeline::steadyNanos());
    poll(nullptr, 0, kPollMs);
  }
  if (!stopped) {
    const std::int64_t now = pipeline::wallNanos();
    framer.finish(
        [&](std::string_view line, std::size_t capacity) { on_line(line, capacity, now); },
        on_too_long);
    offset_ = consumed;
  }
  router_.flush(pipeline::wallNanos(), pipeline::steadyNanos());
  router_.end(stopped);
}

}  // namespace rivulet::connectors

#include "connectors/file_source.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include "connectors/event_decoder.h"
#include "connectors/line_framer.h"
#include "pipeline/clock.h"

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
}

FileSource::~FileSource() {
  if (fd_ >= 0) close(fd_);
}

void FileSource::run(std::stop_token stop) {
  LineFramer framer(kMaxLine);
  EventDecoder decoder(router_, spec_);
  EventDecoder::Stream stream;
  const auto on_line = [&](std::string_view line, std::size_t capacity, std::int64_t now) {
    decoder.line(stream, line, capacity, now);
  };
  const auto on_too_long = [&] { decoder.refuse(pipeline::ErrorReason::kLineTooLong); };
  struct stat st {};
  const bool regular = fstat(fd_, &st) == 0 && S_ISREG(st.st_mode);
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
  }
  router_.flush(pipeline::wallNanos(), pipeline::steadyNanos());
  router_.end(stopped);
}

}  // namespace rivulet::connectors

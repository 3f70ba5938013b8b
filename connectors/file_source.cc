#include "connectors/file_source.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include "connectors/json_lines.h"
#include "connectors/line_framer.h"
#include "pipeline/clock.h"

namespace rivulet::connectors {
namespace {
constexpr int kPollMs = 20;  // how soon appended data or a stop request is noticed
constexpr std::size_t kMaxLine = 1 << 20;
}  // namespace

FileSource::FileSource(std::string name, const config::FileSpec& spec, pipeline::EventRouter router)
    : name_(std::move(name)), spec_(spec), router_(std::move(router)) {
  fd_ = spec.path == "-" ? dup(STDIN_FILENO) : open(spec.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    throw std::runtime_error("source " + name_ + ": cannot open \"" + spec.path +
                             "\": " + std::strerror(errno));
  }
}

FileSource::~FileSource() {
  if (fd_ >= 0) close(fd_);
}

void FileSource::run(std::stop_token stop) {
  LineFramer framer(kMaxLine);
  JsonLines lines(router_);
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
          [&](std::string_view line, std::size_t capacity) { lines.line(line, capacity, now); },
          [&] { lines.tooLong(); });
      router_.flush(now, pipeline::steadyNanos());
      continue;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    // End of file (or a read error, which ends the input the same way). Following a regular
    // file, wait for it to grow; a pipe at end of file has no writer left.
    if (n < 0 || !spec_.follow || !regular) break;
    router_.flush(now, pipeline::steadyNanos());
    poll(nullptr, 0, kPollMs);
  }
  if (!stopped) {
    const std::int64_t now = pipeline::wallNanos();
    framer.finish(
        [&](std::string_view line, std::size_t capacity) { lines.line(line, capacity, now); },
        [&] { lines.tooLong(); });
  }
  router_.flush(pipeline::wallNanos(), pipeline::steadyNanos());
  router_.end(stopped);
}

}  // namespace rivulet::connectors

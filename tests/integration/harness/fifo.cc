// A FIFO the test writes while the daemon reads it (fifo.h).
#include "tests/integration/harness/fifo.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "tests/support/wait.h"

namespace rivulet::testutil {

Fifo::Fifo(std::string path) : path_(std::move(path)) {
  if (mkfifo(path_.c_str(), 0600) != 0) {
    throw std::runtime_error("mkfifo " + path_ + ": " + std::strerror(errno));
  }
  fd_ = ::open(path_.c_str(), O_RDWR | O_CLOEXEC | O_NONBLOCK);
  if (fd_ < 0) throw std::runtime_error("open " + path_ + ": " + std::strerror(errno));
}

Fifo::~Fifo() {
  finishWriting();
  close();
}

void Fifo::startWriting(std::string text) {
  text_ = std::move(text);
  writer_ = std::thread([this] {
    std::string_view rest = text_;
    const auto deadline = Clock::now() + 30s;
    while (!rest.empty() && Clock::now() < deadline) {
      const ssize_t n = ::write(fd_, rest.data(), rest.size());
      if (n > 0) {
        rest.remove_prefix(static_cast<std::size_t>(n));
      } else if (n < 0 && errno == EAGAIN) {
        pollfd p{fd_, POLLOUT, 0};
        ::poll(&p, 1, 20);
      } else if (n < 0 && errno != EINTR) {
        return;
      }
    }
    written_ = rest.empty();
  });
}

bool Fifo::finishWriting() {
  if (writer_.joinable()) writer_.join();
  return written_;
}

void Fifo::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

}  // namespace rivulet::testutil

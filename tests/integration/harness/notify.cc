// The tests' NOTIFY_SOCKET (notify.h).
#include "tests/integration/harness/notify.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "tests/support/wait.h"

namespace rivulet::testutil {

std::optional<std::string> Notice::get(std::string_view name) const {
  for (const std::string& line : splitLines(text)) {
    if (line.size() > name.size() && line.compare(0, name.size(), name) == 0 &&
        line[name.size()] == '=') {
      return line.substr(name.size() + 1);
    }
  }
  return std::nullopt;
}

NotifySocket::NotifySocket(const TempDir& dir) : path_(dir.file("notify.sock")) {
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (fd_ < 0 || path_.size() >= sizeof address.sun_path) {
    throw std::runtime_error("notify socket: " + path_);
  }
  std::memcpy(address.sun_path, path_.c_str(), path_.size() + 1);
  const int on = 1;
  if (::bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
      ::setsockopt(fd_, SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0) {
    throw std::runtime_error("notify socket " + path_ + ": " + std::strerror(errno));
  }
}

NotifySocket::~NotifySocket() { ::close(fd_); }

bool NotifySocket::receiveUntil(const std::function<bool(const std::vector<Notice>&)>& condition,
                                std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (condition(notices_)) return true;
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    receiveOne(left);
  }
}

void NotifySocket::receiveFor(std::chrono::milliseconds duration) {
  receiveUntil([](const std::vector<Notice>&) { return false; }, duration);
}

void NotifySocket::receiveOne(std::chrono::milliseconds timeout) {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(std::max<long>(1, timeout.count()))) <= 0) return;
  char text[4096];
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
  iovec iov{text, sizeof text};
  msghdr message{};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  const ssize_t n = ::recvmsg(fd_, &message, MSG_DONTWAIT);
  if (n < 0) return;
  Notice notice;
  notice.text.assign(text, static_cast<std::size_t>(n));
  for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
      ucred credentials;
      std::memcpy(&credentials, CMSG_DATA(c), sizeof credentials);
      notice.pid = credentials.pid;
    }
  }
  notices_.push_back(std::move(notice));
}

}  // namespace rivulet::testutil

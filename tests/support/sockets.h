// Loopback sockets for the tests: TCP and unix-socket connections with send/receive timeouts, a
// send that writes everything, and a UDP sender.
#pragma once

#include <netinet/in.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace rivulet::testutil {

// Bounds every send and receive on `fd` by `timeout`.
void setTimeouts(int fd, std::chrono::milliseconds timeout);

// A TCP connection to 127.0.0.1:port with send/receive timeouts, or -1 (errno set).
int connectLoopback(int port, std::chrono::milliseconds timeout);

// A connection to the unix socket at `path` with send/receive timeouts, or -1 (errno set).
int connectUnix(const std::string& path, std::chrono::milliseconds timeout);

// Sends all of `data` (retrying on EINTR, no SIGPIPE); false on an error or a closed peer.
bool sendAll(int fd, std::string_view data);

// Leaves a unix socket file at `path` as a process that died leaves it: bound, nothing
// listening. False (errno set) if it cannot.
bool leaveStaleUnixSocket(const std::string& path);

// Datagrams to 127.0.0.1:port.
class UdpSender {
 public:
  explicit UdpSender(int port);
  ~UdpSender();
  UdpSender(const UdpSender&) = delete;
  UdpSender& operator=(const UdpSender&) = delete;

  // Whether the whole datagram went out.
  bool send(std::string_view datagram);

 private:
  int fd_;
  sockaddr_in to_{};
};

}  // namespace rivulet::testutil

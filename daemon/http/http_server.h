// HttpServer: the daemon's HTTP endpoint (/metrics, /healthz, /ready:
// daemon/http/operator_routes.h), on a TCP host:port or a unix socket. One thread and one poll()
// loop serve several connections at once on non-blocking sockets, each with its own buffers and
// deadline, so that a client that dawdles holds up only itself; past a cap, new connections wait in
// the listen backlog. Every response closes its connection. It is the control plane: nothing here
// is on the data path.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "daemon/http/http_routes.h"

namespace rivulet::daemon {

struct HttpLimits {
  // The longest request head accepted; a longer one is answered 431.
  std::size_t max_head_bytes = 8192;
  // Connections served at once; more wait in the kernel's listen backlog.
  std::size_t max_connections = 64;
  // How long a client has to send its request head, and to take the response.
  std::int64_t read_timeout_ns = 5'000'000'000;
  std::int64_t write_timeout_ns = 10'000'000'000;
};

class HttpServer {
 public:
  // Listens on `address` (IPv4, IPv6 or a name; port 0: one the kernel picks, see port()) and
  // starts the thread. Throws std::runtime_error saying what failed ("cannot listen on ...").
  HttpServer(const config::Endpoint& address, HttpRoutes routes, HttpLimits limits = {});
  // Listens on a unix socket at `path` (mode 0660) and starts the thread. A socket file left at
  // `path` by an earlier run is removed first; anything else there is an error.
  HttpServer(const std::string& path, HttpRoutes routes, HttpLimits limits = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Stops the thread (connections in progress are dropped) and removes the unix socket file if it
  // is still ours. From the thread that made the server; once it returns no route is called any
  // more. Idempotent.
  void stop();
  // The bound TCP port; 0 on a unix socket.
  std::uint16_t port() const noexcept { return port_; }

 private:
  struct Connection;

  void startThread();
  void run();
  void accept(std::vector<Connection>& connections, std::int64_t now);
  // Reads, answers, writes or drains, as far as the socket lets it without blocking.
  void advance(Connection& connection, std::int64_t now) const;
  void read(Connection& connection, std::int64_t now) const;
  void write(Connection& connection, std::int64_t now) const;
  void drain(Connection& connection) const;

  HttpRoutes routes_;
  HttpLimits limits_;
  int listen_fd_ = -1;
  int stop_fd_ = -1;  // an eventfd: readable once stop() is called
  std::uint16_t port_ = 0;
  std::string path_;  // the unix socket's; empty on TCP
  dev_t dev_ = 0;     // the socket file we made, so that stop() removes only that one
  ino_t ino_ = 0;
  std::int64_t accept_paused_until_ = 0;  // out of descriptors: accept again then (steady ns)
  std::thread thread_;
};

}  // namespace rivulet::daemon

// The metrics endpoint on a unix socket (`daemon.metrics: unix:/path`): prometheus-cpp's Exposer
// serves through civetweb, and Debian's civetweb is built without unix-socket listeners, so this
// is a listener of our own. One thread, one connection at a time, HTTP/1.1 reduced to what a
// scrape needs: `GET /metrics` answers the text exposition prometheus-cpp's Exposer would serve,
// every response closes its connection. It is the control plane: nothing here is on the data path.
#pragma once

#include <prometheus/collectable.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

namespace rivulet::daemon {

// The response to one request head (everything up to and including the blank line), as the
// server sends it. `metrics` is called only for `GET /metrics` (and HEAD) and returns the body.
// Separate from the socket so that the protocol can be tested on its own.
std::string httpResponse(std::string_view head, const std::function<std::string()>& metrics);

class UnixMetricsServer {
 public:
  // The longest request head accepted; a longer one is answered 431 and closed.
  static constexpr std::size_t kMaxHeadBytes = 8192;
  // How long a client has to send its request, and to take the response.
  static constexpr int kReadTimeoutMs = 5'000;
  static constexpr int kWriteTimeoutMs = 10'000;

  // Binds `path` (mode 0660), listens and starts the thread. A socket file left at `path` by an
  // earlier run is removed first; anything else there is an error. Throws std::runtime_error
  // saying what failed. `metrics` is read by the server's thread until stop().
  UnixMetricsServer(std::string path, std::shared_ptr<const prometheus::Collectable> metrics);
  ~UnixMetricsServer();
  UnixMetricsServer(const UnixMetricsServer&) = delete;
  UnixMetricsServer& operator=(const UnixMetricsServer&) = delete;

  // Stops the thread (a connection in progress is dropped) and removes the socket file if it is
  // still ours. From the thread that made the server; once it returns `metrics` is no longer
  // read. Idempotent.
  void stop();
  const std::string& path() const { return path_; }

 private:
  void run();
  void serve(int fd);
  // Waits until `fd` has `events` or the deadline passes or stop() is called; true if ready.
  bool waitFor(int fd, short events, std::int64_t deadline_ns) const;

  std::string path_;
  std::shared_ptr<const prometheus::Collectable> metrics_;
  int listen_fd_ = -1;
  int stop_fd_ = -1;  // an eventfd: readable once stop() is called
  dev_t dev_ = 0;     // the socket file we made, so that stop() removes only that one
  ino_t ino_ = 0;
  std::thread thread_;
};

}  // namespace rivulet::daemon

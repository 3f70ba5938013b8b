// A minimal HTTP/1.1 GET over a plain socket, and a parser for the Prometheus text format.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/integration/harness/files.h"

namespace rivulet::itest {

struct HttpResponse {
  int status = 0;
  std::string headers;
  std::string body;
};

namespace detail {

inline std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

inline bool decodeChunked(std::string_view in, std::string& out) {
  out.clear();
  for (;;) {
    const std::size_t eol = in.find("\r\n");
    if (eol == std::string_view::npos) return false;
    const std::size_t size = std::strtoul(std::string(in.substr(0, eol)).c_str(), nullptr, 16);
    in.remove_prefix(eol + 2);
    if (size == 0) return true;
    if (in.size() < size + 2) return false;
    out.append(in.substr(0, size));
    in.remove_prefix(size + 2);
  }
}

// Bounds every send and receive on `fd` by `timeout`.
inline void setTimeouts(int fd, milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// A TCP connection to 127.0.0.1:port with send/receive timeouts, or -1 (errno set).
inline int connectLoopback(int port, milliseconds timeout) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  setTimeouts(fd, timeout);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

inline bool sendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Sends `request` on a connected socket, reads until the server closes, closes `fd` and parses
// the response. `what` names the request in errors ("GET /metrics").
inline std::optional<HttpResponse> exchange(int fd, std::string_view request,
                                            const std::string& what, std::string* error) {
  std::string raw;
  bool ok = sendAll(fd, request);
  char buffer[16384];
  while (ok) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) ok = false;
    if (n <= 0) break;
    raw.append(buffer, static_cast<std::size_t>(n));
  }
  const int saved = errno;
  ::close(fd);
  if (!ok) {
    *error = what + ": " + std::strerror(saved);
    return std::nullopt;
  }
  const std::size_t split = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || split == std::string::npos || raw.size() < 12) {
    *error = what + ": not an HTTP response: " + raw.substr(0, 200);
    return std::nullopt;
  }
  HttpResponse response;
  response.status = std::atoi(raw.c_str() + 9);
  response.headers = raw.substr(0, split);
  response.body = raw.substr(split + 4);
  const std::string headers = lower(response.headers);
  if (headers.find("transfer-encoding: chunked") != std::string::npos) {
    std::string body;
    if (!decodeChunked(response.body, body)) {
      *error = what + ": bad chunked body";
      return std::nullopt;
    }
    response.body = std::move(body);
  } else if (const std::size_t at = headers.find("content-length:");
             at != std::string::npos && !request.starts_with("HEAD ")) {
    // (A response to HEAD has the length of the body a GET would get, and no body.)
    const std::size_t length = std::strtoul(headers.c_str() + at + 15, nullptr, 10);
    if (response.body.size() < length) {
      *error = what + ": body shorter than Content-Length";
      return std::nullopt;
    }
    response.body.resize(length);
  }
  return response;
}

// A connection to the unix socket at `path` with send/receive timeouts, or -1 (errno set).
inline int connectUnix(const std::string& path, milliseconds timeout) {
  sockaddr_un address{};
  if (path.size() >= sizeof address.sun_path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  setTimeouts(fd, timeout);
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

}  // namespace detail

// GET http://127.0.0.1:port/path over a plain socket (HTTP/1.1, Connection: close).
inline std::optional<HttpResponse> httpGet(int port, const std::string& path, std::string* error,
                                           milliseconds timeout = 5s) {
  const int fd = detail::connectLoopback(port, timeout);
  if (fd < 0) {
    *error = "connect 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(errno);
    return std::nullopt;
  }
  const std::string request = "GET " + path +
                              " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                              "\r\nConnection: close\r\n\r\n";
  return detail::exchange(fd, request, "GET " + path, error);
}

// Sends `request` as it is (a whole HTTP request, or a broken one) to the unix socket at
// `socket_path` and reads the response until the server closes the connection.
inline std::optional<HttpResponse> httpOverUnix(const std::string& socket_path,
                                                std::string_view request, std::string* error,
                                                milliseconds timeout = 5s) {
  const int fd = detail::connectUnix(socket_path, timeout);
  if (fd < 0) {
    *error = "connect unix:" + socket_path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  return detail::exchange(fd, request, "request to unix:" + socket_path, error);
}

// GET /path over the unix socket at `socket_path` (HTTP/1.1, Connection: close), as
// `curl --unix-socket` sends it.
inline std::optional<HttpResponse> httpGetUnix(const std::string& socket_path,
                                               const std::string& path, std::string* error,
                                               milliseconds timeout = 5s) {
  return httpOverUnix(socket_path,
                      "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                      error, timeout);
}

using Labels = std::map<std::string, std::string>;

struct Sample {
  std::string name;
  Labels labels;
  double value = 0;
};

// The samples of a Prometheus text exposition: `name{label="value",...} value [timestamp]`.
class Metrics {
 public:
  static std::optional<Metrics> parse(std::string_view text, std::string* error) {
    Metrics metrics;
    for (const std::string& line : splitLines(text)) {
      if (line.empty() || line[0] == '#') continue;
      Sample sample;
      std::size_t i = line.find_first_of("{ ");
      if (i == std::string::npos) return fail(error, line);
      sample.name = line.substr(0, i);
      if (line[i] == '{') {
        ++i;
        while (i < line.size() && line[i] != '}') {
          const std::size_t eq = line.find('=', i);
          if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"')
            return fail(error, line);
          const std::string name = line.substr(i, eq - i);
          std::string value;
          std::size_t j = eq + 2;
          for (; j < line.size() && line[j] != '"'; ++j) {
            if (line[j] == '\\' && j + 1 < line.size()) {
              ++j;
              value.push_back(line[j] == 'n' ? '\n' : line[j]);
            } else {
              value.push_back(line[j]);
            }
          }
          if (j >= line.size()) return fail(error, line);
          sample.labels[name] = value;
          i = j + 1;
          if (i < line.size() && line[i] == ',') ++i;
        }
        if (i >= line.size()) return fail(error, line);
        ++i;  // '}'
      }
      while (i < line.size() && line[i] == ' ') ++i;
      const std::string value = line.substr(i, line.find(' ', i) - i);
      char* end = nullptr;
      sample.value = std::strtod(value.c_str(), &end);  // also "NaN", "+Inf"
      if (value.empty() || *end != '\0') return fail(error, line);
      metrics.samples_.push_back(std::move(sample));
    }
    return metrics;
  }

  // The sample with exactly these labels.
  std::optional<double> value(std::string_view name, const Labels& labels = {}) const {
    for (const Sample& s : samples_) {
      if (s.name == name && s.labels == labels) return s.value;
    }
    return std::nullopt;
  }
  // Like value(), 0 when absent (for counters that may not be exported before their first use).
  double valueOr0(std::string_view name, const Labels& labels = {}) const {
    return value(name, labels).value_or(0);
  }
  std::vector<Sample> all(std::string_view name) const {
    std::vector<Sample> out;
    for (const Sample& s : samples_) {
      if (s.name == name) out.push_back(s);
    }
    return out;
  }
  double sum(std::string_view name) const {
    double total = 0;
    for (const Sample& s : samples_) {
      if (s.name == name) total += s.value;
    }
    return total;
  }
  const std::vector<Sample>& samples() const { return samples_; }

 private:
  static std::optional<Metrics> fail(std::string* error, const std::string& line) {
    *error = "cannot parse metrics line: " + line;
    return std::nullopt;
  }
  std::vector<Sample> samples_;
};

}  // namespace rivulet::itest

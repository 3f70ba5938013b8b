// The tests' HTTP client (http.h).
#include "tests/support/http.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "tests/support/sockets.h"

namespace rivulet::testutil {
namespace {

bool decodeChunked(std::string_view in, std::string& out) {
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

}  // namespace

std::string lowerCase(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::optional<HttpResponse> httpExchange(int fd, std::string_view request, const std::string& what,
                                         std::string* error) {
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
  const std::string headers = lowerCase(response.headers);
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

std::optional<HttpResponse> httpGet(int port, const std::string& path, std::string* error,
                                    std::chrono::milliseconds timeout) {
  const int fd = connectLoopback(port, timeout);
  if (fd < 0) {
    *error = "connect 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(errno);
    return std::nullopt;
  }
  const std::string request = "GET " + path +
                              " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                              "\r\nConnection: close\r\n\r\n";
  return httpExchange(fd, request, "GET " + path, error);
}

std::optional<HttpResponse> httpOverUnix(const std::string& socket_path, std::string_view request,
                                         std::string* error, std::chrono::milliseconds timeout) {
  const int fd = connectUnix(socket_path, timeout);
  if (fd < 0) {
    *error = "connect unix:" + socket_path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  return httpExchange(fd, request, "request to unix:" + socket_path, error);
}

std::optional<HttpResponse> httpGetUnix(const std::string& socket_path, const std::string& path,
                                        std::string* error, std::chrono::milliseconds timeout) {
  return httpOverUnix(socket_path,
                      "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                      error, timeout);
}

}  // namespace rivulet::testutil

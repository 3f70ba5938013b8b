// A minimal HTTP/1.1 client over a plain socket, TCP on loopback or a unix socket.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace rivulet::testutil {

struct HttpResponse {
  int status = 0;
  std::string headers;
  std::string body;
};

// `text` in ASCII lower case (header names are case-insensitive).
std::string lowerCase(std::string_view text);

// Sends `request` on a connected socket, reads until the server closes, closes `fd` and parses
// the response (a chunked or Content-Length body). `what` names the request in errors
// ("GET /metrics").
std::optional<HttpResponse> httpExchange(int fd, std::string_view request, const std::string& what,
                                         std::string* error);

// GET http://127.0.0.1:port/path (HTTP/1.1, Connection: close).
std::optional<HttpResponse> httpGet(int port, const std::string& path, std::string* error,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(5));

// Sends `request` as it is (a whole HTTP request, or a broken one) to the unix socket at
// `socket_path` and reads the response until the server closes the connection.
std::optional<HttpResponse> httpOverUnix(
    const std::string& socket_path, std::string_view request, std::string* error,
    std::chrono::milliseconds timeout = std::chrono::seconds(5));

// GET /path over the unix socket at `socket_path` (HTTP/1.1, Connection: close), as
// `curl --unix-socket` sends it.
std::optional<HttpResponse> httpGetUnix(
    const std::string& socket_path, const std::string& path, std::string* error,
    std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace rivulet::testutil

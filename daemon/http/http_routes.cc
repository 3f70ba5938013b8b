#include "daemon/http/http_routes.h"

#include <exception>

#include "daemon/log.h"

namespace rivulet::daemon {
namespace {

std::string_view reasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
  }
  return "Unknown";
}

std::string response(const HttpReply& reply, bool head_only, std::string_view extra_header = {}) {
  std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " " +
                    std::string(reasonPhrase(reply.status)) +
                    "\r\nContent-Type: " + reply.content_type +
                    "\r\nContent-Length: " + std::to_string(reply.body.size()) + "\r\n";
  out += extra_header;
  out += "Connection: close\r\n\r\n";
  if (!head_only) out += reply.body;
  return out;
}

HttpReply errorReply(int status) {
  return HttpReply{status, std::string(reasonPhrase(status)) + "\n"};
}

}  // namespace

std::string httpError(int status) { return response(errorReply(status), false); }

HttpRoutes& HttpRoutes::get(std::string path, Handler handler) {
  routes_.emplace_back(std::move(path), std::move(handler));
  return *this;
}

std::string HttpRoutes::respond(std::string_view head) const {
  // The request line: METHOD SP target SP HTTP/1.x CRLF.
  const std::size_t eol = head.find("\r\n");
  if (eol == std::string_view::npos) return httpError(400);
  const std::string_view line = head.substr(0, eol);
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == 0 || sp2 == std::string_view::npos || sp2 == sp1 + 1 ||
      line.find(' ', sp2 + 1) != std::string_view::npos) {
    return httpError(400);
  }
  const std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!version.starts_with("HTTP/1.") || version.size() != 8 || target.front() != '/') {
    return httpError(400);
  }
  target = target.substr(0, target.find('?'));
  for (const auto& [path, handler] : routes_) {
    if (path != target) continue;
    if (method != "GET" && method != "HEAD") {
      return response(errorReply(405), false, "Allow: GET, HEAD\r\n");
    }
    try {
      return response(handler(), method == "HEAD");
    } catch (const std::exception& e) {
      logError("http: GET " + path + " failed: " + e.what());
      return httpError(500);
    }
  }
  return httpError(404);
}

}  // namespace rivulet::daemon

// HttpRoutes: what the daemon's HTTP endpoint answers, apart from the sockets (daemon/
// http_server.h) so that the protocol can be tested on its own. HTTP/1.1 reduced to what a
// scraper, a health check and curl need: a request line, GET and HEAD, a status, a body, and
// `Connection: close` on every response.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rivulet::daemon {

struct HttpReply {
  int status = 200;
  std::string body;
  std::string content_type = "text/plain; charset=utf-8";
};

// A plain-text response for `status`, its reason phrase as the body.
std::string httpError(int status);

class HttpRoutes {
 public:
  // Called on the server's thread, once per request; an exception from it is answered 500.
  using Handler = std::function<HttpReply()>;

  // GET `path` (and HEAD, answered with the same head and no body) is `handler`'s reply. `path`
  // is matched exactly, without the query string.
  HttpRoutes& get(std::string path, Handler handler);

  // The whole response to one request head (everything up to and including the blank line): the
  // route's reply, 404 for a path without one, 405 for a method other than GET and HEAD, 400 for
  // what is not an HTTP/1.x request line.
  std::string respond(std::string_view head) const;

 private:
  std::vector<std::pair<std::string, Handler>> routes_;
};

}  // namespace rivulet::daemon

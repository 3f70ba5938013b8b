// HttpRoutes: the HTTP/1.1 the daemon's endpoint speaks, without sockets — each route's reply
// with its head, HEAD without the body, 404/405/400/500, and, for random request heads, a
// well-formed response whose status a brute-force reading of the request line predicts.
#include "daemon/http/http_routes.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>

namespace rivulet::daemon {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

struct Parsed {
  int status = 0;
  std::string head;  // the status line and headers, without the blank line
  std::string body;
};

// Splits a response and checks what every response must have: a status line, one
// Content-Length equal to the body's length (for HEAD: `head_of` the body a GET gets).
Parsed parse(const std::string& response, std::size_t* content_length = nullptr) {
  Parsed p;
  const std::size_t split = response.find("\r\n\r\n");
  EXPECT_NE(split, std::string::npos) << response;
  if (split == std::string::npos) return p;
  p.head = response.substr(0, split);
  p.body = response.substr(split + 4);
  EXPECT_THAT(p.head, StartsWith("HTTP/1.1 "));
  p.status = std::atoi(p.head.c_str() + 9);
  EXPECT_THAT(p.head, HasSubstr("\r\nConnection: close"));
  const std::size_t at = p.head.find("\r\nContent-Length: ");
  EXPECT_NE(at, std::string::npos) << p.head;
  if (at != std::string::npos) {
    const std::size_t length = std::strtoul(p.head.c_str() + at + 18, nullptr, 10);
    if (content_length != nullptr) {
      *content_length = length;
    } else {
      EXPECT_EQ(length, p.body.size()) << response;
    }
  }
  return p;
}

HttpRoutes sample() {
  HttpRoutes routes;
  routes.get("/metrics",
             [] {
               return HttpReply{200, "a_metric 1\n", "text/plain; version=0.0.4"};
             })
      .get("/ready",
           [] {
             return HttpReply{503, "starting\n"};
           })
      .get("/broken", []() -> HttpReply { throw std::runtime_error("no"); });
  return routes;
}

TEST(HttpRoutes, GetAnswersTheRoutesReplyWithItsHead) {
  const Parsed p = parse(sample().respond("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(p.status, 200);
  EXPECT_THAT(p.head, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(p.head, HasSubstr("\r\nContent-Type: text/plain; version=0.0.4"));
  EXPECT_EQ(p.body, "a_metric 1\n");
}

TEST(HttpRoutes, HeadHasTheSameHeadAndNoBody) {
  const HttpRoutes routes = sample();
  const Parsed get = parse(routes.respond("GET /metrics HTTP/1.1\r\n\r\n"));
  std::size_t length = 0;
  const Parsed head = parse(routes.respond("HEAD /metrics HTTP/1.1\r\n\r\n"), &length);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.head, get.head);
  EXPECT_EQ(head.body, "");
  EXPECT_EQ(length, get.body.size());
}

TEST(HttpRoutes, AStatusOtherThan200IsTheRoutes) {
  const Parsed p = parse(sample().respond("GET /ready HTTP/1.0\r\n\r\n"));
  EXPECT_EQ(p.status, 503);
  EXPECT_THAT(p.head, StartsWith("HTTP/1.1 503 Service Unavailable\r\n"));
  EXPECT_EQ(p.body, "starting\n");
}

TEST(HttpRoutes, QueryStringIsNotPartOfThePath) {
  EXPECT_EQ(parse(sample().respond("GET /metrics?name[]=x HTTP/1.1\r\n\r\n")).status, 200);
  EXPECT_EQ(parse(sample().respond("GET /metrics/ HTTP/1.1\r\n\r\n")).status, 404);
}

TEST(HttpRoutes, UnknownPathIs404AndOtherMethodsAre405WithAllow) {
  const HttpRoutes routes = sample();
  EXPECT_EQ(parse(routes.respond("GET / HTTP/1.1\r\n\r\n")).status, 404);
  EXPECT_EQ(parse(routes.respond("POST /nothing HTTP/1.1\r\n\r\n")).status, 404);
  for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS", "get"}) {
    const Parsed p = parse(routes.respond(std::string(method) + " /metrics HTTP/1.1\r\n\r\n"));
    EXPECT_EQ(p.status, 405) << method;
    EXPECT_THAT(p.head, HasSubstr("\r\nAllow: GET, HEAD\r\n")) << method;
  }
}

TEST(HttpRoutes, MalformedRequestLinesAre400) {
  const HttpRoutes routes = sample();
  for (const char* head :
       {"hello there\r\n\r\n", "GET /metrics\r\n\r\n", "GET  /metrics HTTP/1.1\r\n",
        " GET /metrics HTTP/1.1\r\n", "GET /metrics HTTP/1.1 x\r\n", "GET metrics HTTP/1.1\r\n",
        "GET /metrics HTTP/2.0\r\n", "GET /metrics HTTP/1.10\r\n", "GET /metrics HTTP/1.1", ""}) {
    const Parsed p = parse(routes.respond(head));
    EXPECT_EQ(p.status, 400) << head;
    EXPECT_EQ(p.body, "Bad Request\n");
  }
}

TEST(HttpRoutes, AFailingRouteIs500AndTheOthersGoOn) {
  const HttpRoutes routes = sample();
  const Parsed p = parse(routes.respond("GET /broken HTTP/1.1\r\n\r\n"));
  EXPECT_EQ(p.status, 500);
  EXPECT_THAT(p.body, Not(HasSubstr("no")));  // the exception's text goes to the log only
  EXPECT_EQ(parse(routes.respond("GET /metrics HTTP/1.1\r\n\r\n")).status, 200);
}

TEST(HttpRoutes, ErrorResponsesNameTheirStatus) {
  const Parsed p = parse(httpError(431));
  EXPECT_THAT(p.head, StartsWith("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
  EXPECT_EQ(p.body, "Request Header Fields Too Large\n");
}

// The status a request line must get, read the slow way: split on every space.
int expectedStatus(std::string_view head) {
  const std::size_t eol = head.find("\r\n");
  if (eol == std::string_view::npos) return 400;
  std::vector<std::string> parts;
  std::string part;
  for (const char c : head.substr(0, eol)) {
    if (c == ' ') {
      parts.push_back(part);
      part.clear();
    } else {
      part += c;
    }
  }
  parts.push_back(part);
  if (parts.size() != 3 || parts[0].empty() || parts[1].empty() || parts[1][0] != '/' ||
      parts[2].size() != 8 || parts[2].rfind("HTTP/1.", 0) != 0) {
    return 400;
  }
  const std::string path = parts[1].substr(0, parts[1].find('?'));
  if (path != "/metrics" && path != "/ready" && path != "/broken") return 404;
  if (parts[0] != "GET" && parts[0] != "HEAD") return 405;
  return path == "/metrics" ? 200 : path == "/ready" ? 503 : 500;
}

TEST(HttpRoutes, RandomRequestHeadsGetTheStatusTheRequestLineCallsFor) {
  const HttpRoutes routes = sample();
  std::mt19937 random(7);
  const std::vector<std::string> pieces = {"GET",
                                           "HEAD",
                                           "POST",
                                           "get",
                                           " ",
                                           " ",
                                           " ",
                                           "/metrics",
                                           "/ready",
                                           "/broken",
                                           "/",
                                           "?a=b",
                                           "HTTP/1.1",
                                           "HTTP/1.0",
                                           "HTTP/2",
                                           "\r\n",
                                           "\r\n",
                                           "x",
                                           std::string(1, '\0'),
                                           "\xff",
                                           "/metrics?"};
  for (int i = 0; i < 20000; ++i) {
    std::string head;
    const int n = static_cast<int>(random() % 8);
    for (int j = 0; j < n; ++j) head += pieces[random() % pieces.size()];
    if (random() % 2 == 0) head += "\r\n\r\n";
    std::size_t length = 0;
    const bool head_only = head.rfind("HEAD ", 0) == 0;
    const Parsed p = parse(routes.respond(head), head_only ? &length : nullptr);
    ASSERT_EQ(p.status, expectedStatus(head)) << testing::PrintToString(head);
    if (head_only && p.status == 200) {
      EXPECT_EQ(p.body, "");
    }
  }
}

}  // namespace
}  // namespace rivulet::daemon

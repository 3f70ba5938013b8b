// HttpServer over real sockets (TCP on loopback, unix in a temp dir): a scrape is answered while
// other clients dawdle over their requests or do not read their responses, past the cap new
// connections wait for a slot, oversized heads get a 431 they can read, silent clients are closed
// at their deadline, and the unix socket's file is made 0660, replaced when stale, refused when
// not a socket and removed at stop. Several client threads scrape at once while the test thread
// changes what a route reports (the concurrency label: run under TSan).
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/stat.h>

#include <atomic>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "daemon/http/http_server.h"
#include "tests/support/files.h"
#include "tests/support/http.h"
#include "tests/support/sockets.h"

namespace rivulet::daemon {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;
using testutil::HttpResponse;

constexpr std::int64_t kLong = 120'000'000'000;  // ns: a timeout no test may wait for

HttpRoutes routes(std::atomic<int>* calls = nullptr) {
  HttpRoutes r;
  r.get("/metrics", [calls] {
    if (calls != nullptr) calls->fetch_add(1, std::memory_order_relaxed);
    return HttpReply{200, "up 1\n"};
  });
  r.get("/big", [] { return HttpReply{200, std::string(16 << 20, 'x')}; });
  return r;
}

config::Endpoint loopback() { return config::Endpoint{"127.0.0.1", 0}; }

// A connection that sends its request in parts, on the test's schedule.
class Client {
 public:
  explicit Client(int port) : fd_(testutil::connectLoopback(port, 20s)) {
    if (fd_ < 0) throw std::runtime_error(std::string("connect: ") + std::strerror(errno));
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const { return fd_; }
  bool send(std::string_view data) { return testutil::sendAll(fd_, data); }
  // Sends the rest and reads the response until the server closes.
  std::optional<HttpResponse> finish(std::string_view rest, std::string* error) {
    const int fd = fd_;
    fd_ = -1;
    return testutil::httpExchange(fd, rest, "request", error);
  }
  // Whether anything (data or the end) arrives within `wait`.
  bool readable(std::chrono::milliseconds wait) {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(wait.count())) > 0;
  }

 private:
  int fd_;
};

constexpr std::string_view kStart = "GET /metrics HTTP/1.1\r\nHo";
constexpr std::string_view kRest = "st: x\r\n\r\n";

TEST(HttpServer, ServesGetAndHeadOnAnEphemeralPort) {
  HttpServer server(loopback(), routes());
  ASSERT_NE(server.port(), 0);
  std::string error;
  const auto get = testutil::httpGet(server.port(), "/metrics", &error);
  ASSERT_TRUE(get) << error;
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, "up 1\n");
  Client head(server.port());
  const auto reply = head.finish("HEAD /metrics HTTP/1.1\r\n\r\n", &error);
  ASSERT_TRUE(reply) << error;
  EXPECT_EQ(reply->status, 200);
  EXPECT_THAT(reply->headers, HasSubstr("Content-Length: 5"));
  EXPECT_EQ(reply->body, "");
  const auto missing = testutil::httpGet(server.port(), "/nope", &error);
  ASSERT_TRUE(missing) << error;
  EXPECT_EQ(missing->status, 404);
}

TEST(HttpServer, SlowClientsDoNotHoldUpAScrape) {
  HttpLimits limits;
  limits.read_timeout_ns = kLong;  // one at a time, the scrape would wait for all of them
  HttpServer server(loopback(), routes(), limits);
  std::vector<std::unique_ptr<Client>> slow;
  for (int i = 0; i < 8; ++i) {
    slow.push_back(std::make_unique<Client>(server.port()));
    ASSERT_TRUE(slow.back()->send(kStart));
  }
  std::string error;
  const auto scrape = testutil::httpGet(server.port(), "/metrics", &error, 20s);
  ASSERT_TRUE(scrape) << error;
  EXPECT_EQ(scrape->status, 200);
  // They were still waiting, not dropped: each now gets its answer.
  for (auto& client : slow) {
    const auto reply = client->finish(kRest, &error);
    ASSERT_TRUE(reply) << error;
    EXPECT_EQ(reply->status, 200);
    EXPECT_EQ(reply->body, "up 1\n");
  }
}

TEST(HttpServer, AClientThatDoesNotReadItsResponseHoldsUpOnlyItself) {
  HttpLimits limits;
  limits.write_timeout_ns = kLong;
  HttpServer server(loopback(), routes(), limits);
  Client big(server.port());
  ASSERT_TRUE(big.send("GET /big HTTP/1.1\r\n\r\n"));
  // 16 MiB is far more than the socket buffers hold: the server waits to write the rest.
  std::string error;
  const auto scrape = testutil::httpGet(server.port(), "/metrics", &error, 20s);
  ASSERT_TRUE(scrape) << error;
  EXPECT_EQ(scrape->status, 200);
  const auto reply = big.finish("", &error);
  ASSERT_TRUE(reply) << error;
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body.size(), std::size_t{16} << 20);
}

TEST(HttpServer, PastTheCapANewConnectionWaitsForAFreeSlot) {
  HttpLimits limits;
  limits.max_connections = 2;
  limits.read_timeout_ns = kLong;
  HttpServer server(loopback(), routes(), limits);
  Client first(server.port()), second(server.port());
  ASSERT_TRUE(first.send(kStart));
  ASSERT_TRUE(second.send(kStart));
  // Accepted after those two (the kernel queues connections in order): no slot for it.
  Client third(server.port());
  ASSERT_TRUE(third.send("GET /metrics HTTP/1.1\r\n\r\n"));
  EXPECT_FALSE(third.readable(300ms)) << "served past the cap";
  std::string error;
  const auto done = first.finish(kRest, &error);
  ASSERT_TRUE(done) << error;
  EXPECT_EQ(done->status, 200);
  const auto reply = third.finish("", &error);
  ASSERT_TRUE(reply) << error;
  EXPECT_EQ(reply->status, 200);
}

TEST(HttpServer, AnOversizedHeadGets431AndCanReadIt) {
  HttpServer server(loopback(), routes());
  // Far more than the limit and the socket buffers: the server stops reading at the limit.
  const std::string huge =
      "GET /metrics HTTP/1.1\r\nX-Filler: " + std::string(1 << 20, 'x') + "\r\n\r\n";
  Client client(server.port());
  std::string error;
  std::thread sender([&] { client.send(huge); });
  const auto reply = testutil::httpExchange(::dup(client.fd()), "", "oversized", &error);
  ::shutdown(client.fd(), SHUT_RDWR);  // the sender may still be blocked on a full buffer
  sender.join();
  ASSERT_TRUE(reply) << error;
  EXPECT_EQ(reply->status, 431);
  const auto after = testutil::httpGet(server.port(), "/metrics", &error);
  ASSERT_TRUE(after) << error;
  EXPECT_EQ(after->status, 200);
}

TEST(HttpServer, ASilentClientIsClosedAtItsDeadline) {
  HttpLimits limits;
  limits.read_timeout_ns = 200'000'000;
  HttpServer server(loopback(), routes(), limits);
  Client silent(server.port());
  char byte;
  EXPECT_EQ(::recv(silent.fd(), &byte, 1, 0), 0) << "not closed: " << std::strerror(errno);
  std::string error;
  const auto after = testutil::httpGet(server.port(), "/metrics", &error);
  ASSERT_TRUE(after) << error;
  EXPECT_EQ(after->status, 200);
}

TEST(HttpServer, APortInUseIsAnErrorNamingTheAddress) {
  HttpServer first(loopback(), routes());
  try {
    HttpServer second(config::Endpoint{"127.0.0.1", first.port()}, routes());
    FAIL() << "a second server listens on the same port";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("cannot listen on 127.0.0.1:" + std::to_string(first.port())));
    EXPECT_THAT(e.what(), HasSubstr("in use"));
  }
}

TEST(HttpServer, ServesIpv6Loopback) {
  std::optional<HttpServer> server;
  try {
    server.emplace(config::Endpoint{"::1", 0}, routes());
  } catch (const std::runtime_error& e) {
    GTEST_SKIP() << "no IPv6 loopback here: " << e.what();
  }
  const int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  testutil::setTimeouts(fd, 20s);
  sockaddr_in6 address{};
  address.sin6_family = AF_INET6;
  address.sin6_port = htons(server->port());
  address.sin6_addr = in6addr_loopback;
  ASSERT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0)
      << std::strerror(errno);
  std::string error;
  const auto reply = testutil::httpExchange(fd, "GET /metrics HTTP/1.1\r\n\r\n", "GET", &error);
  ASSERT_TRUE(reply) << error;
  EXPECT_EQ(reply->status, 200);
}

TEST(HttpServer, StopReturnsWithConnectionsOpenAndNoRouteRunsAfter) {
  std::atomic<int> calls{0};
  HttpLimits limits;
  limits.read_timeout_ns = kLong;
  HttpServer server(loopback(), routes(&calls), limits);
  const int port = server.port();
  Client waiting(port);
  ASSERT_TRUE(waiting.send(kStart));
  std::string error;
  ASSERT_TRUE(testutil::httpGet(port, "/metrics", &error)) << error;
  ASSERT_EQ(calls.load(), 1);
  server.stop();
  server.stop();  // idempotent
  // The waiting client is dropped, unanswered; nobody can connect any more.
  EXPECT_FALSE(waiting.finish(kRest, &error).has_value());
  EXPECT_LT(testutil::connectLoopback(port, 1s), 0);
  EXPECT_EQ(calls.load(), 1);
}

class UnixSocket : public ::testing::Test {
 protected:
  testutil::TempDir dir_;
  const std::string path_ = dir_.file("m.sock");
};

TEST_F(UnixSocket, ServesOnAFileOfMode0660AndRemovesItAtStop) {
  const mode_t old_umask = ::umask(0077);  // the mode must not depend on it
  HttpServer server(path_, routes());
  ::umask(old_umask);
  EXPECT_EQ(server.port(), 0);
  struct stat st {};
  ASSERT_EQ(::lstat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  std::string error;
  const auto get = testutil::httpGetUnix(path_, "/metrics", &error);
  ASSERT_TRUE(get) << error;
  EXPECT_EQ(get->status, 200);
  const auto head = testutil::httpOverUnix(path_, "HEAD /metrics HTTP/1.1\r\n\r\n", &error);
  ASSERT_TRUE(head) << error;
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->body, "");
  server.stop();
  EXPECT_NE(::lstat(path_.c_str(), &st), 0);
}

TEST_F(UnixSocket, ReplacesAStaleSocketAndRefusesAnyOtherFile) {
  // A socket file as a process that died leaves it: bound, nothing listening.
  ASSERT_TRUE(testutil::leaveStaleUnixSocket(path_)) << std::strerror(errno);
  {
    HttpServer server(path_, routes());
    std::string error;
    const auto get = testutil::httpGetUnix(path_, "/metrics", &error);
    ASSERT_TRUE(get) << error;
    EXPECT_EQ(get->status, 200);
  }
  testutil::writeFile(path_, "not a socket\n");
  try {
    HttpServer refused(path_, routes());
    FAIL() << "replaced a regular file";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(),
                HasSubstr("cannot listen on unix:" + path_ + ": exists and is not a socket"));
  }
  EXPECT_EQ(testutil::readFile(path_), "not a socket\n");
}

TEST_F(UnixSocket, StopLeavesAFileThatIsNoLongerItsOwn) {
  HttpServer first(path_, routes());
  HttpServer second(path_, routes());  // a second daemon on the same path replaces the file
  first.stop();
  std::string error;
  const auto get = testutil::httpGetUnix(path_, "/metrics", &error);
  ASSERT_TRUE(get) << error;
  EXPECT_EQ(get->status, 200);
}

// Client threads scrape while the test thread flips what /ready reports: every answer is one of
// the two states, whole.
TEST(HttpServerConcurrent, ClientsOnSeveralThreadsSeeWholeAnswers) {
  std::atomic<bool> ready{false};
  HttpRoutes r;
  r.get("/ready", [&ready] {
    return ready.load(std::memory_order_relaxed) ? HttpReply{200, "ready\n"}
                                                 : HttpReply{503, "starting\n"};
  });
  HttpServer server(loopback(), std::move(r));
  constexpr int kThreads = 4;
  constexpr int kRequests = 50;
  std::atomic<int> ok{0}, unavailable{0}, wrong{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < kThreads; ++t) {
    clients.emplace_back([&] {
      for (int i = 0; i < kRequests; ++i) {
        std::string error;
        const auto reply = testutil::httpGet(server.port(), "/ready", &error, 20s);
        if (reply && reply->status == 200 && reply->body == "ready\n") {
          ok.fetch_add(1);
        } else if (reply && reply->status == 503 && reply->body == "starting\n") {
          unavailable.fetch_add(1);
        } else {
          wrong.fetch_add(1);
        }
      }
    });
  }
  for (int i = 0; i < 100; ++i) ready.store(i % 2 == 0, std::memory_order_relaxed);
  ready.store(true, std::memory_order_relaxed);
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(ok.load() + unavailable.load(), kThreads * kRequests);
  std::string error;
  const auto last = testutil::httpGet(server.port(), "/ready", &error);
  ASSERT_TRUE(last) << error;
  EXPECT_EQ(last->status, 200);
}

}  // namespace
}  // namespace rivulet::daemon

// `daemon.metrics: unix:/path`: the real daemon serves its metrics over a unix socket (mode 0660)
// and opens no TCP port for them; the socket answers GET /metrics with counters that grow, HEAD,
// /healthz and /ready, 404, 405, 400 and 431 for the rest, and is removed on a clean stop. A
// socket file left by a killed run is replaced; any other file at the path stops the start.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "tests/integration/harness.h"

namespace rivulet::testutil {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Results on ipc://, so that any TCP listener the daemon has would be the metrics endpoint's.
std::string configYaml(const TempDir& dir, const std::string& socket) {
  return daemonYaml(dir, {.metrics = "unix:" + socket, .stages = 1}) + "sources:\n" +
         generatorYaml("gen", 10, 10000, 10000) + "pipelines:\n" +
         perKeyPipelineYaml("per_key", "gen");
}

// The inodes of the sockets `pid` holds open (/proc/<pid>/fd links read "socket:[inode]").
std::set<std::string> socketInodes(pid_t pid) {
  std::set<std::string> inodes;
  std::error_code error;
  for (const auto& fd :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", error)) {
    const std::string target = std::filesystem::read_symlink(fd.path(), error).string();
    if (target.rfind("socket:[", 0) == 0) inodes.insert(target.substr(8, target.size() - 9));
  }
  return inodes;
}

// The inodes of the listening TCP sockets of this network namespace (state 0A in /proc/net/tcp*).
std::set<std::string> tcpListenerInodes() {
  std::set<std::string> inodes;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::vector<std::string> f;
      for (std::string field; fields >> field;) f.push_back(field);
      if (f.size() > 9 && f[3] == "0A") inodes.insert(f[9]);
    }
  }
  return inodes;
}

double events(const Metrics& m) {
  return m.valueOr0("rivulet_source_events_total", {{"source", "gen"}});
}

TEST(MetricsSocket, ServesMetricsOnTheSocketAndNoTcpPort) {
  TempDir dir;
  const std::string socket = dir.file("m.sock");
  std::optional<Daemon> daemon;
  daemon.emplace(dir, configYaml(dir, socket));
  ASSERT_TRUE(daemon->waitReady());
  EXPECT_EQ(daemon->metricsSocket(), socket);
  EXPECT_THAT(daemon->log(), HasSubstr("metrics on unix:" + socket + " "));
  EXPECT_THAT(daemon->log(), Not(HasSubstr("metrics on http://")));
  EXPECT_EQ(daemon->metricsPort(), 0);

  struct stat st {};
  ASSERT_EQ(::lstat(socket.c_str(), &st), 0) << std::strerror(errno);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0660u);

  // No TCP listener at all: not the exposer's, not on any port.
  const std::set<std::string> listeners = tcpListenerInodes();
  for (const std::string& inode : socketInodes(daemon->process().pid())) {
    EXPECT_EQ(listeners.count(inode), 0u)
        << "rivuletd listens on TCP (socket inode " << inode << ")";
  }

  // Two scrapes: the counter grows between them.
  std::string error;
  const auto first =
      daemon->scrapeUntil([](const Metrics& scraped) { return events(scraped) > 0; }, 30s, &error);
  ASSERT_TRUE(first && events(*first) > 0) << error;
  const auto second = daemon->scrapeUntil(
      [&](const Metrics& scraped) { return events(scraped) > events(*first); }, 30s, &error);
  ASSERT_TRUE(second && events(*second) > events(*first)) << error;
  EXPECT_EQ(second->all("rivulet_build_info").size(), 1u);

  // The response as a scraper sees it: prometheus-cpp's content type, a body that ends the
  // exposition, and the connection closed after it.
  const auto ok = httpGetUnix(socket, "/metrics", &error);
  ASSERT_TRUE(ok) << error;
  EXPECT_EQ(ok->status, 200);
  EXPECT_THAT(lowerCase(ok->headers),
              HasSubstr("content-type: text/plain; version=0.0.4; charset=utf-8"));
  EXPECT_THAT(lowerCase(ok->headers), HasSubstr("connection: close"));
  EXPECT_THAT(ok->body, HasSubstr("# TYPE rivulet_source_events_total counter\n"));

  // HEAD: the head a GET gets, no body. /healthz and /ready as on TCP.
  const auto head = httpOverUnix(socket, "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &error);
  ASSERT_TRUE(head) << error;
  EXPECT_EQ(head->status, 200);
  EXPECT_THAT(lowerCase(head->headers), HasSubstr("content-length: "));
  EXPECT_EQ(head->body, "");
  const auto health = httpGetUnix(socket, "/healthz", &error);
  ASSERT_TRUE(health) << error;
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok\n");
  std::optional<HttpResponse> ready;
  waitUntil(
      [&] {
        ready = httpGetUnix(socket, "/ready", &error);
        return ready && ready->status == 200;
      },
      10s);
  ASSERT_TRUE(ready) << error;
  EXPECT_EQ(ready->status, 200);
  EXPECT_EQ(ready->body, "ready\n");

  const auto other = httpGetUnix(socket, "/", &error);
  ASSERT_TRUE(other) << error;
  EXPECT_EQ(other->status, 404);
  const auto bad = httpOverUnix(socket, "hello there\r\n\r\n", &error);
  ASSERT_TRUE(bad) << error;
  EXPECT_EQ(bad->status, 400);
  const auto post = httpOverUnix(socket, "POST /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &error);
  ASSERT_TRUE(post) << error;
  EXPECT_EQ(post->status, 405);
  const std::string huge =
      "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Filler: " + std::string(9000, 'x') + "\r\n\r\n";
  const auto too_large = httpOverUnix(socket, huge, &error);
  ASSERT_TRUE(too_large) << error;
  EXPECT_EQ(too_large->status, 431);
  // The server is still there after all that.
  const auto again = daemon->scrape(&error);
  ASSERT_TRUE(again) << error;

  // A clean stop removes the socket file.
  ASSERT_TRUE(daemon->process().signal(SIGTERM));
  EXPECT_EQ(daemon->process().wait(30s), 0);
  EXPECT_NE(::lstat(socket.c_str(), &st), 0) << socket << " is left after a clean stop";
  EXPECT_EQ(errno, ENOENT);
}

TEST(MetricsSocket, ReplacesAStaleSocketAndRefusesAnyOtherFile) {
  TempDir dir;
  const std::string socket = dir.file("m.sock");
  {
    // A socket file left behind, as by a daemon that was killed: bound, then closed.
    const int fd = connectUnix(socket, 1s);  // fails: nothing there yet
    ASSERT_LT(fd, 0);
    ASSERT_TRUE(leaveStaleUnixSocket(socket)) << std::strerror(errno);
  }
  {
    Daemon daemon(dir, configYaml(dir, socket));
    ASSERT_TRUE(daemon.waitReady());
    std::string error;
    const auto m =
        daemon.scrapeUntil([](const Metrics& scraped) { return events(scraped) > 0; }, 30s, &error);
    ASSERT_TRUE(m && events(*m) > 0) << error;
    ASSERT_TRUE(daemon.process().signal(SIGTERM));
    EXPECT_EQ(daemon.process().wait(30s), 0);
  }

  // A regular file at the path is not ours to remove: the start fails and the file stays.
  writeFile(socket, "not a socket\n");
  TempDir second;
  Daemon refused(second, configYaml(second, socket));
  EXPECT_EQ(refused.process().wait(30s), 3);
  EXPECT_THAT(refused.log(), HasSubstr("cannot start: metrics: cannot listen on unix:" + socket +
                                       ": exists and is not a socket"));
  EXPECT_EQ(readFile(socket), "not a socket\n");
}

}  // namespace
}  // namespace rivulet::testutil

// The real daemon's HTTP endpoint on TCP: /healthz is 200 while every engine thread makes
// progress and 503 naming a stage stopped for real (ptrace stops that one thread; the test is the
// daemon's parent, so it may) until it moves again; /ready is 200 once READY; HEAD /metrics has
// the head of a GET and no body; clients that dawdle over their requests do not hold up a scrape.
// (The same endpoint on a unix socket: daemon_metrics_socket_test.cc.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <memory>
#include <vector>

#include "tests/integration/harness.h"

namespace rivulet::testutil {
namespace {

using ::testing::HasSubstr;

// A generator whose event time runs with the wall clock, into two stages.
std::string configYaml(const TempDir& dir, int throttle) {
  return daemonYaml(dir) + "sources:\n" + generatorYaml("gen", 100, throttle, throttle) +
         "pipelines:\n" + perKeyPipelineYaml("counts", "gen");
}

std::optional<HttpResponse> request(int port, const std::string& text, std::string* error) {
  const int fd = connectLoopback(port, 5s);
  if (fd < 0) {
    *error = std::string("connect: ") + std::strerror(errno);
    return std::nullopt;
  }
  return httpExchange(fd, text, text.substr(0, text.find('\r')), error);
}

TEST(DaemonHttp, HealthzReadyAndHeadMetrics) {
  TempDir dir;
  Daemon daemon(dir, configYaml(dir, 1000));
  ASSERT_TRUE(daemon.waitReady());
  EXPECT_THAT(daemon.log(), HasSubstr("/metrics (also /healthz, /ready)"));
  std::string error;

  // "running" is logged just before READY=1: /ready may be a moment behind it.
  std::optional<HttpResponse> ready;
  waitUntil(
      [&] {
        ready = httpGet(daemon.metricsPort(), "/ready", &error);
        return ready && ready->status == 200;
      },
      10s);
  ASSERT_TRUE(ready) << error;
  EXPECT_EQ(ready->status, 200);
  EXPECT_EQ(ready->body, "ready\n");

  const auto health = httpGet(daemon.metricsPort(), "/healthz", &error);
  ASSERT_TRUE(health) << error;
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok\n");

  const auto get = httpGet(daemon.metricsPort(), "/metrics", &error);
  ASSERT_TRUE(get) << error;
  const auto head =
      request(daemon.metricsPort(), "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &error);
  ASSERT_TRUE(head) << error;
  EXPECT_EQ(head->status, 200);
  EXPECT_THAT(lowerCase(head->headers),
              HasSubstr("content-type: text/plain; version=0.0.4; charset=utf-8"));
  EXPECT_THAT(lowerCase(head->headers), HasSubstr("content-length: "));
  EXPECT_EQ(head->body, "");

  const auto other = httpGet(daemon.metricsPort(), "/status", &error);
  ASSERT_TRUE(other) << error;
  EXPECT_EQ(other->status, 404);
  const auto post = request(daemon.metricsPort(), "POST /healthz HTTP/1.1\r\n\r\n", &error);
  ASSERT_TRUE(post) << error;
  EXPECT_EQ(post->status, 405);

  ASSERT_TRUE(daemon.process().signal(SIGTERM));
  EXPECT_EQ(daemon.process().wait(30s), 0);
}

TEST(DaemonHttp, ClientsThatDawdleDoNotHoldUpAScrape) {
  TempDir dir;
  Daemon daemon(dir, configYaml(dir, 1000));
  ASSERT_TRUE(daemon.waitReady());
  // Each has 5 s to finish its request: one after the other, they would hold a scrape for 50 s.
  std::vector<std::unique_ptr<TcpClient>> slow;
  for (int i = 0; i < 10; ++i) {
    slow.push_back(std::make_unique<TcpClient>(daemon.metricsPort()));
    ASSERT_TRUE(slow.back()->send("GET /metrics HTTP/1.1\r\nHo"));
  }
  std::string error;
  const auto m = daemon.scrape(&error);  // 5 s to answer
  ASSERT_TRUE(m) << error;
  EXPECT_GT(m->valueOr0("rivulet_source_events_total", {{"source", "gen"}}), 0);
  ASSERT_TRUE(daemon.process().signal(SIGTERM));
  EXPECT_EQ(daemon.process().wait(30s), 0);
}

TEST(DaemonHttp, HealthzNamesAStoppedStageUntilItMovesAgain) {
  TempDir dir;
  // A 1 s watchdog: the stall limit /healthz uses too. No NOTIFY_SOCKET: nobody is pinged.
  Daemon daemon(dir, configYaml(dir, 20000), {}, {"WATCHDOG_USEC=1000000"});
  ASSERT_TRUE(daemon.waitReady());
  std::string error;
  const auto before = httpGet(daemon.metricsPort(), "/healthz", &error);
  ASSERT_TRUE(before) << error;
  EXPECT_EQ(before->status, 200) << before->body;

  const pid_t stage = threadNamed(daemon.process().pid(), "rv-stage-1");
  ASSERT_GT(stage, 0) << "no thread named rv-stage-1";
  ThreadStop stop(stage);
  if (stop.refused()) GTEST_SKIP() << "ptrace is not permitted here: " << stop.error();
  ASSERT_TRUE(stop.stopped()) << stop.error();

  std::optional<HttpResponse> stalled;
  waitUntil(
      [&] {
        stalled = httpGet(daemon.metricsPort(), "/healthz", &error);
        return stalled && stalled->status == 503;
      },
      20s, 50ms);
  ASSERT_TRUE(stalled) << error;
  ASSERT_EQ(stalled->status, 503) << stalled->body;
  EXPECT_EQ(stalled->body, "stalled: stage 1 (no progress for over 1 s)\n");
  // The rest of the endpoint goes on: /ready is about the service, not the threads.
  const auto ready = httpGet(daemon.metricsPort(), "/ready", &error);
  ASSERT_TRUE(ready) << error;
  EXPECT_EQ(ready->status, 200);

  stop.resume();
  std::optional<HttpResponse> again;
  waitUntil(
      [&] {
        again = httpGet(daemon.metricsPort(), "/healthz", &error);
        return again && again->status == 200;
      },
      20s, 50ms);
  ASSERT_TRUE(again) << error;
  EXPECT_EQ(again->status, 200) << again->body;

  ASSERT_TRUE(daemon.process().signal(SIGTERM));
  EXPECT_EQ(daemon.process().wait(30s), 0);
}

}  // namespace
}  // namespace rivulet::testutil

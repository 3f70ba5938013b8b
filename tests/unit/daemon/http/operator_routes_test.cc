// The daemon's routes over a real Engine and Service, without sockets: /ready follows what the
// service manager is told (503 starting, 200 from READY=1, still 200 through a reload, 503
// stopping from STOPPING=1), /healthz is 200 while every thread beats, /metrics is the text
// exposition with prometheus-cpp's content type, and the stall limit is the watchdog's interval.
#include "daemon/http/operator_routes.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <memory>
#include <string>

#include "config/loader.h"
#include "daemon/http/metrics.h"
#include "daemon/service/watchdog.h"
#include "pipeline/runtime/clock.h"

namespace rivulet::daemon {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

config::Config generatorConfig() {
  config::LoadResult loaded = config::loadString(
      "daemon:\n  publish: inproc://operator-routes\n  stages: 1\n  log_level: warn\n"
      "sources:\n  gen:\n    kind: generator\n    keys: 5\n    events_per_second: 1000\n"
      "    throttle: 1000\n"
      "pipelines:\n  p:\n    from: gen\n    group_by: [key]\n    window: {tumbling: 1s}\n"
      "    aggregates:\n      n: count()\n",
      "test.yaml");
  if (!loaded.config) ADD_FAILURE() << loaded.errors.front().toString();
  return *loaded.config;
}

// The status line and body of GET `path`.
std::pair<std::string, std::string> get(const HttpRoutes& routes, const std::string& path) {
  const std::string response = routes.respond("GET " + path + " HTTP/1.1\r\n\r\n");
  const std::size_t eol = response.find("\r\n");
  const std::size_t body = response.find("\r\n\r\n");
  return {response.substr(0, eol), response.substr(body + 4)};
}

class OperatorRoutes : public ::testing::Test {
 protected:
  void SetUp() override {
    // As run from a shell: no service manager, no watchdog.
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("WATCHDOG_USEC");
    ::unsetenv("WATCHDOG_PID");
    notifier_ = std::make_unique<ServiceNotifier>();
    engine_ = std::make_unique<Engine>(generatorConfig());
    service_ = std::make_unique<Service>(*engine_, *notifier_);
    routes_ = operatorRoutes(std::make_shared<EngineMetrics>(*engine_), *engine_, *service_);
  }
  void TearDown() override {
    engine_->requestStop();
    engine_->join();
  }

  std::unique_ptr<ServiceNotifier> notifier_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Service> service_;
  HttpRoutes routes_;
};

TEST_F(OperatorRoutes, ReadyFollowsWhatTheServiceManagerIsTold) {
  EXPECT_EQ(get(routes_, "/ready"), std::make_pair(std::string("HTTP/1.1 503 Service Unavailable"),
                                                   std::string("starting\n")));
  engine_->start();
  EXPECT_EQ(get(routes_, "/ready").second, "starting\n") << "ready before READY=1";
  service_->ready(pipeline::steadyNanos());
  EXPECT_EQ(get(routes_, "/ready"),
            std::make_pair(std::string("HTTP/1.1 200 OK"), std::string("ready\n")));
  service_->reloading();
  EXPECT_EQ(get(routes_, "/ready").first, "HTTP/1.1 200 OK") << "a reload goes on serving";
  service_->reloaded(pipeline::steadyNanos());
  EXPECT_EQ(get(routes_, "/ready").first, "HTTP/1.1 200 OK");
  service_->stopping("stopping: test");
  EXPECT_EQ(get(routes_, "/ready"), std::make_pair(std::string("HTTP/1.1 503 Service Unavailable"),
                                                   std::string("stopping\n")));
}

TEST_F(OperatorRoutes, HealthzIsOkWhileEveryThreadBeats) {
  EXPECT_EQ(get(routes_, "/healthz"),
            std::make_pair(std::string("HTTP/1.1 200 OK"), std::string("ok\n")));
  engine_->start();
  EXPECT_EQ(get(routes_, "/healthz"),
            std::make_pair(std::string("HTTP/1.1 200 OK"), std::string("ok\n")));
  EXPECT_EQ(service_->stallLimit(), Watchdog::kStallLimitNs);
}

TEST_F(OperatorRoutes, MetricsIsTheTextExposition) {
  const std::string response = routes_.respond("GET /metrics HTTP/1.1\r\n\r\n");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(response,
              HasSubstr("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
  EXPECT_THAT(response, HasSubstr("\n# TYPE rivulet_source_events_total counter\n"));
  EXPECT_THAT(response,
              HasSubstr("\nrivulet_results_published_total{pipeline=\"p\",kind=\"update\"} 0\n"));
}

TEST(ServiceStallLimit, IsTheWatchdogsInterval) {
  ::unsetenv("WATCHDOG_PID");
  ::setenv("WATCHDOG_USEC", "2500000", 1);
  ServiceNotifier notifier;
  ::unsetenv("WATCHDOG_USEC");
  Engine engine(generatorConfig());
  const Service service(engine, notifier);
  EXPECT_EQ(service.stallLimit(), 2'500'000'000);
}

}  // namespace
}  // namespace rivulet::daemon

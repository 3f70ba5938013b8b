#include "daemon/http/operator_routes.h"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "pipeline/runtime/clock.h"

namespace rivulet::daemon {
namespace {

std::string seconds(std::int64_t ns) {
  char text[32];
  std::snprintf(text, sizeof text, "%g s", static_cast<double>(ns) * 1e-9);
  return text;
}

}  // namespace

HttpRoutes operatorRoutes(std::shared_ptr<const prometheus::Collectable> metrics,
                          const Engine& engine, const Service& service) {
  HttpRoutes routes;
  routes.get("/metrics", [metrics] {
    const std::vector<prometheus::MetricFamily> families = metrics->Collect();
    std::ostringstream out;
    prometheus::TextSerializer().Serialize(out, families);
    return HttpReply{200, std::move(out).str(), kMetricsContentType};
  });
  // The watchdog's test, asked afresh: a check that probes every few seconds sees a stall as soon
  // as it passes the limit, not at the watchdog's next turn.
  routes.get("/healthz", [&engine, &service] {
    const std::int64_t limit = service.stallLimit();
    const std::vector<std::string> stalled = engine.stalledThreads(pipeline::steadyNanos(), limit);
    if (stalled.empty()) return HttpReply{200, "ok\n"};
    std::string names;
    for (const std::string& name : stalled) names += (names.empty() ? "" : ", ") + name;
    return HttpReply{503, "stalled: " + names + " (no progress for over " + seconds(limit) + ")\n"};
  });
  routes.get("/ready", [&service] {
    switch (service.state()) {
      case Service::State::kReady:
        return HttpReply{200, "ready\n"};
      case Service::State::kStarting:
        return HttpReply{503, "starting\n"};
      case Service::State::kStopping:
        break;
    }
    return HttpReply{503, "stopping\n"};
  });
  return routes;
}

}  // namespace rivulet::daemon

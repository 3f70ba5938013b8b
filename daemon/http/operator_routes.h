// The routes of the daemon's HTTP endpoint, for operators and their tools: /metrics (the
// Prometheus text exposition), /healthz (is every engine thread making progress) and /ready (has
// the service manager been told READY=1, and not yet STOPPING=1). Another route is one more
// get() in operatorRoutes().
#pragma once

#include <prometheus/collectable.h>

#include <memory>

#include "daemon/engine.h"
#include "daemon/http/http_routes.h"
#include "daemon/service/service.h"

namespace rivulet::daemon {

// What prometheus-cpp's Exposer answered /metrics with, so that scrapers see no change.
inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

// The routes over `metrics`, `engine` and `service`, which the server's thread reads until it is
// stopped: they must outlive it.
HttpRoutes operatorRoutes(std::shared_ptr<const prometheus::Collectable> metrics,
                          const Engine& engine, const Service& service);

}  // namespace rivulet::daemon

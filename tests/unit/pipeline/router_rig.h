// Router: an EventRouter over rings, built from a config as the engine builds it, fed events given
// as field name -> value, and the reading of what it sent; with the pipelines the event router
// tests route to.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"
#include "config/expression/expression.h"
#include "pipeline/event_router.h"
#include "pipeline/model/record.h"
#include "tests/support/plans.h"
#include "tests/support/rings.h"

namespace rivulet::testutil {

inline constexpr std::int64_t kSecond = 1'000'000'000;
inline constexpr std::int64_t kNow = 1'700'000'000'000 * kMs;  // the wall clock the tests pretend
inline constexpr std::int64_t kSteady = 1'000 * kSecond;       // and the monotonic clock

struct SourceOptions {
  std::optional<config::TimeSpec> time = config::TimeSpec{"ts", config::TimeUnit::kMillis};
  config::WatermarkSpec watermark{};
};

class Router {
 public:
  Router(std::vector<config::PipelineConfig> pipelines, std::size_t stages,
         SourceOptions options = {}, std::size_t ring_capacity = 1024)
      : rings_(stages, ring_capacity) {
    config::SourceConfig source;
    source.name = "src";
    source.kind = config::SourceKind::kFile;
    source.time = options.time;
    source.watermark = options.watermark;
    config_.sources.push_back(source);
    config_.pipelines = std::move(pipelines);
    router_ = std::make_unique<pipeline::EventRouter>(planFor(config_), rings_.pointers(), stats_);
  }

  // Routes an event given as field name -> value; fields not named are missing.
  pipeline::ErrorReason route(
      std::initializer_list<std::pair<std::string, config::FieldValue>> named,
      std::int64_t now = kNow) {
    const std::vector<std::string>& fields = router_->plan().fields;
    std::vector<config::FieldValue> values(fields.size());
    for (const auto& [name, value] : named) {
      const auto it = std::find(fields.begin(), fields.end(), name);
      if (it == fields.end()) {
        ADD_FAILURE() << "field " << name << " is not in the plan";
        continue;
      }
      values[static_cast<std::size_t>(it - fields.begin())] = value;
    }
    return router_->route(values.data(), now);
  }

  void flush(std::int64_t now = kNow, std::int64_t steady = kSteady) {
    router_->flush(now, steady);
    rings_.drain();
  }

  pipeline::EventRouter& router() { return *router_; }
  RingSet& rings() { return rings_; }
  const pipeline::SourceStats& stats() const { return stats_; }
  std::uint64_t errors(pipeline::ErrorReason reason) const {
    return testutil::errors(stats_, reason);
  }

  // Records that arrived on `ring` since the last call.
  std::vector<Record> take(std::size_t ring) {
    const std::vector<Record>& all = rings_.records(ring);
    std::vector<Record> out(all.begin() + static_cast<std::ptrdiff_t>(seen_[ring]), all.end());
    seen_[ring] = all.size();
    return out;
  }
  // take() of every ring.
  std::vector<std::vector<Record>> takeAll() {
    std::vector<std::vector<Record>> out;
    for (std::size_t i = 0; i < rings_.size(); ++i) out.push_back(take(i));
    return out;
  }

 private:
  config::Config config_;
  pipeline::SourceStats stats_;
  RingSet rings_;
  std::unique_ptr<pipeline::EventRouter> router_;
  std::map<std::size_t, std::size_t> seen_;
};

// The events pipeline (route) `route` refused for `reason`.
inline std::uint64_t refused(Router& r, std::size_t route, pipeline::ErrorReason reason) {
  return r.router().routeStats(route).refused[static_cast<std::size_t>(reason)].load();
}

inline config::PipelineConfig countBy(std::string name, std::vector<std::string> group_by) {
  return pipelineConfig(std::move(name), "src", std::move(group_by),
                        {aggregate("n", config::AggregateKind::kCount)});
}
inline config::PipelineConfig sumBy(std::string name, std::vector<std::string> group_by,
                                    std::string field) {
  return pipelineConfig(std::move(name), "src", std::move(group_by),
                        {aggregate("s", config::AggregateKind::kSum, std::move(field))});
}

// A group_by entry `name: expression`.
inline config::GroupBySpec named(std::string name, std::string_view expression) {
  config::ExpressionResult parsed = config::parseExpression(expression);
  EXPECT_TRUE(parsed.expression.has_value()) << expression;
  return {std::move(name), std::move(parsed.expression)};
}
inline config::PipelineConfig countByParts(std::string name,
                                           std::vector<config::GroupBySpec> group_by) {
  config::PipelineConfig p = countBy(std::move(name), std::vector<std::string>{});
  p.group_by = std::move(group_by);
  return p;
}

}  // namespace rivulet::testutil

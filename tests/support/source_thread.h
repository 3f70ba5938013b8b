// A source of type S running on its own thread, writing through a real EventRouter into a
// RingSet that the test thread drains: the connector tests' fixture.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <stop_token>
#include <thread>
#include <type_traits>
#include <utility>

#include "config/config.h"
#include "pipeline/event_router.h"
#include "pipeline/model/stats.h"
#include "tests/support/plans.h"
#include "tests/support/rings.h"

namespace rivulet::testutil {

// A source of type S built from config.sources[0], running on its own thread (from start()); the
// test thread is the consumer of its rings.
template <typename S>
class SourceThread {
 public:
  SourceThread(const config::Config& config, std::size_t stages, bool start = true,
               std::size_t ring_capacity = 1 << 14)
      : rings_(stages, ring_capacity),
        source_(make(config.sources[0],
                     pipeline::EventRouter(planFor(config), rings_.pointers(), stats_), stats_)) {
    if (start) this->start();
  }
  ~SourceThread() {
    if (thread_.joinable()) stop();
  }

  void start() {
    thread_ = std::jthread([this](std::stop_token stop) {
      source_.run(stop);
      done_.store(true, std::memory_order_release);
    });
  }
  // Stops the source and drains its rings to the end of its stream.
  void stop() {
    thread_.request_stop();
    EXPECT_TRUE(rings_.drainUntil([&] { return done_.load(std::memory_order_acquire); }));
    thread_.join();
    rings_.drain();
  }

  S& source() { return source_; }
  RingSet& rings() { return rings_; }
  const pipeline::SourceStats& stats() const { return stats_; }

 private:
  // With the stats too, for a source that counts some of them itself (tcp, udp).
  static S make(const config::SourceConfig& spec, pipeline::EventRouter router,
                pipeline::SourceStats& stats) {
    if constexpr (std::is_constructible_v<S, const config::SourceConfig&, pipeline::EventRouter,
                                          pipeline::SourceStats*>) {
      return S(spec, std::move(router), &stats);
    } else {
      return S(spec, std::move(router));
    }
  }

  pipeline::SourceStats stats_;
  RingSet rings_;
  S source_;
  std::atomic<bool> done_{false};
  std::jthread thread_;
};

}  // namespace rivulet::testutil

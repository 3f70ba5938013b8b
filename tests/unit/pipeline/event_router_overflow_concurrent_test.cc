// EventRouter with overflow: drop against a slow stage thread: the source never waits; every
// event is either delivered once (in order, whole) or counted as dropped; control records
// (watermarks, the end) still arrive. Runs under ThreadSanitizer in CI (label "concurrency").
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/event_router.h"
#include "tests/support/field_values.h"
#include "tests/support/plans.h"
#include "tests/support/printers.h"
#include "tests/support/rings.h"
#include "tests/support/slowdown.h"

namespace rivulet::pipeline {
namespace {

TEST(EventRouterOverflowConcurrent, SlowStageMeansDropsNeverWaitsAndNothingHalf) {
  const int events = 20'000 / RIVULET_TEST_SLOWDOWN;
  config::Config config;
  config::SourceConfig source = testutil::msSource("src");
  source.overflow = config::Overflow::kDrop;
  config.sources.push_back(source);
  // Two pipelines keyed alike: each accepted event has one record in each, on the same ring.
  for (const char* name : {"a", "b"}) {
    config.pipelines.push_back(testutil::pipelineConfig(
        name, "src", {"k"}, {testutil::aggregate("s", config::AggregateKind::kSum, "seq")}));
  }
  SourceStats stats;
  testutil::RingSet rings(2, 256);
  EventRouter router(testutil::planFor(config), rings.pointers(), stats);

  std::thread producer([&] {
    const std::vector<std::string>& fields = router.plan().fields;  // ts, k, seq
    std::vector<config::FieldValue> values(fields.size());
    std::string key;
    for (int i = 0; i < events; ++i) {
      key = "k" + std::to_string(i % 13);
      for (std::size_t f = 0; f < fields.size(); ++f) {
        values[f] = fields[f] == "k" ? testutil::str(key)
                                     : testutil::integer(fields[f] == "ts" ? i / 10 : i);
      }
      EXPECT_EQ(router.route(values.data(), 0), ErrorReason::kNone);
      if (i % 50 == 49) router.flush(0, i);
    }
    router.flush(0, events);
    router.end(false);
  });
  // A slow stage: it yields between reads.
  const bool ended = rings.drainUntil([&] {
    std::this_thread::yield();
    return rings.ended();
  });
  producer.join();
  ASSERT_TRUE(ended);

  // The end of the stream is the one record a dropping source waits for: it cannot be sent later.
  EXPECT_LE(stats.ring_full_waits.load(), 2u);
  EXPECT_GT(stats.dropped.load(), 0u) << "the stage was never behind: nothing tested";
  EXPECT_EQ(stats.events.load() + stats.dropped.load(), static_cast<std::uint64_t>(events));
  EXPECT_EQ(testutil::totalErrors(stats), 0u);
  testutil::expectOneEndPerRing(rings, 0);
  testutil::checkWatermarks(rings);
  // Per ring, both pipelines carry the same events in the same, rising order.
  std::set<double> delivered;
  for (std::size_t ring = 0; ring < rings.size(); ++ring) {
    std::vector<double> seq[2];
    for (const testutil::Record& r : rings.records(ring)) {
      if (r.type() == RecordType::kEvent) seq[r.header.pipeline].push_back(r.value(0));
    }
    EXPECT_EQ(seq[0], seq[1]) << "ring " << ring << ": an event arrived in part";
    for (std::size_t i = 1; i < seq[0].size(); ++i) EXPECT_LT(seq[0][i - 1], seq[0][i]);
    delivered.insert(seq[0].begin(), seq[0].end());
  }
  EXPECT_EQ(delivered.size(), stats.events.load());
}

}  // namespace
}  // namespace rivulet::pipeline

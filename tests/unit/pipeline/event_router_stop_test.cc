// EventRouter of a blocking source whose stop has been requested, single-threaded: an event that
// finds a ring full that nobody drains is dropped whole and counted once its stage is taken to be
// stuck, events that find room are still routed, and the end of the stream goes to every ring,
// however full: every other record leaves room for it.
#include <gtest/gtest.h>

#include <cstdint>
#include <stop_token>
#include <string>
#include <vector>

#include "pipeline/event_router.h"
#include "pipeline/model/hash.h"
#include "tests/support/field_values.h"
#include "tests/support/plans.h"
#include "tests/support/printers.h"
#include "tests/support/rings.h"
#include "tests/support/wait.h"

namespace rivulet::pipeline {
namespace {

using testutil::RingSet;

constexpr std::uint32_t kStages = 2;
constexpr std::size_t kRingCells = 64;
constexpr std::int64_t kNow = 1'700'000'000'000 * testutil::kMs;

// The first key "k<i>" whose records go to `stage`.
std::string keyOnStage(std::uint32_t stage) { return testutil::keyOnStage(stage, kStages); }

// Two pipelines keyed by different fields, so that one event may go to both rings; the source
// blocks (it would wait for room), and is already asked to stop.
class StoppedRouter : public ::testing::Test {
 protected:
  StoppedRouter() : rings_(kStages, kRingCells) {
    config_.sources.push_back(testutil::msSource("src", config::SourceKind::kFile));
    for (const char* field : {"a", "b"}) {
      config_.pipelines.push_back(
          testutil::pipelineConfig(std::string("by_") + field, "src", {field},
                                   {testutil::aggregate("n", config::AggregateKind::kCount)}));
    }
    router_ = std::make_unique<EventRouter>(testutil::planFor(config_), rings_.pointers(), stats_,
                                            std::vector<Doorbell*>{}, stop_.get_token());
    EXPECT_EQ(router_->plan().overflow, config::Overflow::kBlock);
    stop_.request_stop();
  }

  ErrorReason route(std::int64_t ts, const std::string& a, const std::string& b) {
    const config::FieldValue fields[3] = {testutil::integer(ts), testutil::str(a),
                                          testutil::str(b)};
    return router_->route(fields, kNow);
  }

  config::Config config_;
  SourceStats stats_;
  RingSet rings_;
  std::stop_source stop_;
  std::unique_ptr<EventRouter> router_;
};

TEST_F(StoppedRouter, FullRingDropsTheEventWholeAndTheEndStillGoesEverywhere) {
  const std::string a0 = keyOnStage(0), b1 = keyOnStage(1);
  std::vector<std::int64_t> accepted;
  std::int64_t ts = 1000;
  // Both records of these go to ring 0, which nobody reads: routed while there is room.
  for (int i = 0; i < 100 && stats_.dropped.load() == 0; ++i, ++ts) {
    ASSERT_EQ(route(ts, a0, a0), ErrorReason::kNone);
    if (stats_.dropped.load() == 0) accepted.push_back(ts);
  }
  ASSERT_EQ(stats_.dropped.load(), 1u) << "ring 0 never filled";
  ASSERT_GT(accepted.size(), 1u);
  EXPECT_EQ(stats_.ring_full_waits.load(), 1u) << "it waited for the stage, then gave up";

  // One record for each ring: ring 1 has room, ring 0 has not, so nothing of it is staged.
  const std::size_t ring1 = rings_.ring(1).staged() + rings_.ring(1).available();
  ASSERT_EQ(route(ts++, a0, b1), ErrorReason::kNone);
  EXPECT_EQ(stats_.dropped.load(), 2u);
  EXPECT_EQ(stats_.ring_full_waits.load(), 2u);
  EXPECT_EQ(rings_.ring(1).staged() + rings_.ring(1).available(), ring1);

  // Events and control records (the watermark of the first event's window, 2 cells) filled
  // ring 0 as far as they may: to the 2 cells every record leaves for the end of the stream. The
  // flush's watermark does not fit beside them: it goes to ring 1 only.
  router_->flush(kNow, 1);
  EXPECT_TRUE(rings_.ring(0).hasRoom(2));
  EXPECT_FALSE(rings_.ring(0).hasRoom(3));
  router_->end(true);
  rings_.drain();
  testutil::expectOneEndPerRing(rings_, kEndStopped);
  EXPECT_EQ(stats_.events.load(), accepted.size());
  EXPECT_EQ(testutil::totalErrors(stats_), 0u);
  for (std::uint16_t pipeline : {0, 1}) {
    const std::vector<testutil::Record> records = rings_.events(pipeline);
    ASSERT_EQ(records.size(), accepted.size()) << "pipeline " << pipeline;
    for (std::size_t i = 0; i < accepted.size(); ++i)
      EXPECT_EQ(records[i].header.time, accepted[i] * testutil::kMs) << i;
  }
}

}  // namespace
}  // namespace rivulet::pipeline

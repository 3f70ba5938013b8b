// EventRouter with overflow: drop, single-threaded: an event whose records do not all fit their
// rings is dropped whole (no record of it staged anywhere) and counted in `dropped`; events no
// pipeline can take stay errors; nothing waits and nothing allocates; room again means events
// again.
#include <gtest/gtest.h>

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "pipeline/event_router.h"
#include "pipeline/model/hash.h"
#include "tests/support/plans.h"
#include "tests/support/printers.h"
#include "tests/support/rings.h"
#include "tests/unit/pipeline/allocation_counter.h"

namespace rivulet::pipeline {
namespace {

using testutil::RingSet;

constexpr std::uint32_t kStages = 2;
constexpr std::size_t kRingCells = 64;

// The first key "k<i>" whose records go to `stage`.
std::string keyOnStage(std::uint32_t stage) { return testutil::keyOnStage(stage, kStages); }

// Two pipelines keyed by different fields, so that one event may go to both rings.
class DropRouter : public ::testing::Test {
 protected:
  explicit DropRouter(std::size_t ring_cells = kRingCells) : rings_(kStages, ring_cells) {
    config::SourceConfig source = testutil::msSource("src", config::SourceKind::kUdp);
    source.overflow = config::Overflow::kDrop;
    config_.sources.push_back(source);
    for (const char* field : {"a", "b"}) {
      config_.pipelines.push_back(
          testutil::pipelineConfig(std::string("by_") + field, "src", {field},
                                   {testutil::aggregate("n", config::AggregateKind::kCount)}));
    }
    router_ = std::make_unique<EventRouter>(testutil::planFor(config_), rings_.pointers(), stats_);
    EXPECT_EQ(router_->plan().overflow, config::Overflow::kDrop);
    EXPECT_EQ(router_->plan().fields, (std::vector<std::string>{"ts", "a", "b"}));
  }

  // Routes {ts, a, b}; an empty key is left missing.
  ErrorReason route(std::int64_t ts, const std::string& a, const std::string& b) {
    config::FieldValue fields[3];
    fields[0].type = config::FieldType::kNumber;
    fields[0].is_integer = true;
    fields[0].integer = ts;
    fields[0].number = static_cast<double>(ts);
    for (int i = 1; i < 3; ++i) {
      const std::string& key = i == 1 ? a : b;
      if (key.empty()) continue;
      fields[i].type = config::FieldType::kString;
      fields[i].text = key;
    }
    return router_->route(fields, kNow);
  }

  static constexpr std::int64_t kNow = 1'700'000'000'000 * testutil::kMs;
  config::Config config_;
  SourceStats stats_;
  RingSet rings_;
  std::unique_ptr<EventRouter> router_;
};

TEST_F(DropRouter, EventIsDroppedWholeWhenAnyOfItsRingsIsFull) {
  const std::string a0 = keyOnStage(0), b0 = keyOnStage(0), b1 = keyOnStage(1);
  // Routes until an event is dropped; the times of those accepted before it.
  std::vector<std::int64_t> accepted;
  std::int64_t ts = 1000;
  const auto fillUntilDrop = [&](const std::string& b) {
    const std::uint64_t dropped = stats_.dropped.load();
    for (int i = 0; i < 100 && stats_.dropped.load() == dropped; ++i, ++ts) {
      ASSERT_EQ(route(ts, a0, b), ErrorReason::kNone);
      if (stats_.dropped.load() == dropped) accepted.push_back(ts);
    }
    ASSERT_EQ(stats_.dropped.load(), dropped + 1) << "the ring never filled";
  };
  // Fill ring 0 with events both of whose records go there; the stage reads nothing.
  fillUntilDrop(b0);
  ASSERT_GT(accepted.size(), 0u);
  EXPECT_EQ(stats_.ring_full_waits.load(), 0u) << "a dropping source never waits";
  // What was staged when the ring filled up is published, so that the stage can read it.
  EXPECT_EQ(rings_.ring(0).staged(), 0u);

  // Events with one record for each ring: the last one's record would fit ring 1, but ring 0
  // has no room for the other, so nothing of it is staged.
  const std::size_t ring1_staged = rings_.ring(1).staged();
  const std::size_t before = accepted.size();
  fillUntilDrop(b1);
  EXPECT_EQ(rings_.ring(1).staged(), ring1_staged + 3 * (accepted.size() - before))
      << "3 cells per accepted record, none of the dropped event";

  // An event no pipeline can take is an error, full rings or not.
  EXPECT_EQ(route(ts++, "", ""), ErrorReason::kMissingField);
  EXPECT_EQ(testutil::errors(stats_, ErrorReason::kMissingField), 1u);
  EXPECT_EQ(stats_.dropped.load(), 2u);
  // One that by_a takes and by_b refuses is dropped whole: not by_b's refusal, since it is
  // nobody's event.
  EXPECT_EQ(route(ts++, a0, ""), ErrorReason::kNone);
  EXPECT_EQ(stats_.dropped.load(), 3u);
  EXPECT_EQ(router_->routeStats(1).refused[static_cast<std::size_t>(ErrorReason::kMissingField)],
            0u);

  // Once the stage has read ring 0 there is room again.
  rings_.drain();
  ASSERT_EQ(route(ts, a0, b1), ErrorReason::kNone);
  accepted.push_back(ts);
  EXPECT_EQ(stats_.dropped.load(), 3u);
  router_->flush(kNow, 1);
  rings_.drain();
  EXPECT_EQ(stats_.events.load(), accepted.size());

  // Exactly the accepted events arrived, each with both its records, in order.
  for (std::uint16_t pipeline : {0, 1}) {
    const std::vector<testutil::Record> records = rings_.events(pipeline);
    ASSERT_EQ(records.size(), accepted.size()) << "pipeline " << pipeline;
    for (std::size_t i = 0; i < accepted.size(); ++i)
      EXPECT_EQ(records[i].header.time, accepted[i] * testutil::kMs) << i;
  }
}

// A watermark goes to every ring or to none: with a ring full, a flush defers it (the source
// does not wait) and a later flush sends it.
TEST_F(DropRouter, WatermarkWaitsForRoomWithoutHoldingTheSource) {
  const std::string a0 = keyOnStage(0);
  std::int64_t ts = 1000;
  // The first event's watermark (it may close windows for the events after it) goes at once.
  ASSERT_EQ(route(ts++, a0, a0), ErrorReason::kNone);
  router_->flush(kNow, 0);
  // 6 cells per event (3 per record) after that event and its watermark (2), 64 cells, and each
  // record leaves 2 free for the end of the stream: ring 0 is left with 2 cells free, room for a
  // watermark but not beside the end's.
  while (stats_.dropped.load() == 0) ASSERT_EQ(route(ts++, a0, a0), ErrorReason::kNone);
  ASSERT_TRUE(rings_.ring(0).hasRoom(2));
  ASSERT_FALSE(rings_.ring(0).hasRoom(3));

  router_->flush(kNow, 1);
  rings_.drain();
  EXPECT_EQ(rings_.count(RecordType::kWatermark), static_cast<std::size_t>(kStages))
      << "the first on every ring; the second deferred, on every ring";
  EXPECT_EQ(stats_.ring_full_waits.load(), 0u);

  router_->flush(kNow, 2);  // the stage has read ring 0 meanwhile
  rings_.drain();
  EXPECT_EQ(rings_.count(RecordType::kWatermark), static_cast<std::size_t>(2 * kStages));
  EXPECT_EQ(testutil::checkWatermarks(rings_), static_cast<std::size_t>(2 * kStages));
}

// Rings wide enough for records built in place (kMaxRecordCells contiguous cells).
class WideDropRouter : public DropRouter {
 protected:
  WideDropRouter() : DropRouter(4 * kMaxRecordCells) {}
};

// A dropped event is nobody's, so a pipeline's refusal of it is not counted: not when it is
// dropped, and not with the next event either (it lingered, and was counted with the next event
// built in place).
TEST_F(WideDropRouter, RefusalsOfADroppedEventAreNotCountedWithTheNext) {
  const std::string a0 = keyOnStage(0), b0 = keyOnStage(0), a1 = keyOnStage(1);
  const auto refused = [&](std::size_t route) {
    return router_->routeStats(route)
        .refused[static_cast<std::size_t>(ErrorReason::kMissingField)]
        .load();
  };
  std::int64_t ts = 1000;
  while (stats_.dropped.load() == 0) ASSERT_EQ(route(ts++, a0, b0), ErrorReason::kNone);
  // by_b refuses these (no b); by_a takes them until its record finds no room on ring 0, and
  // that event is dropped whole.
  std::uint64_t refusals = 0;
  for (; stats_.dropped.load() == 1; ++refusals) {
    ASSERT_EQ(route(ts++, a0, ""), ErrorReason::kNone);
  }
  --refusals;               // the last one was dropped
  router_->flush(kNow, 1);  // counts the events so far
  const std::uint64_t events = stats_.events.load();
  EXPECT_EQ(refused(1), refusals);

  // Both records of the next go to ring 1, empty: built in place, taken by both pipelines.
  ASSERT_EQ(route(ts++, a1, a1), ErrorReason::kNone);
  EXPECT_EQ(refused(1), refusals);
  ASSERT_EQ(route(ts++, a1, ""), ErrorReason::kNone);  // by_b refuses this one, with room
  EXPECT_EQ(refused(1), refusals + 1);
  EXPECT_EQ(refused(0), 0u);
  router_->flush(kNow, 2);
  rings_.drain();
  EXPECT_EQ(stats_.events.load(), events + 2);
  EXPECT_EQ(testutil::totalErrors(stats_), 0u);
  EXPECT_EQ(rings_.events(1).size(), events - refusals + 1);
}

TEST_F(DropRouter, DroppingAllocatesNothing) {
  const std::string a0 = keyOnStage(0), b0 = keyOnStage(0);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(route(1000 + i, a0, b0), ErrorReason::kNone);
  ASSERT_GT(stats_.dropped.load(), 0u);
  const std::uint64_t dropped = stats_.dropped.load();
  const std::size_t before = testutil::allocations.load();
  for (int i = 0; i < 100; ++i) route(2000 + i, a0, b0);
  EXPECT_EQ(testutil::allocations.load() - before, 0u);
  EXPECT_EQ(stats_.dropped.load(), dropped + 100);
}

}  // namespace
}  // namespace rivulet::pipeline

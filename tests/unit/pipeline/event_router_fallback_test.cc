// EventRouter: an event that finds no room in place for its first record is built again off-ring;
// a later pipeline may still refuse it, for itself (a record left in the off-ring buffer by an
// earlier event must not go out in its place), or with every pipeline refusing, for the source.
// With either overflow policy.
#include <gtest/gtest.h>

#include <string>

#include "pipeline/event_router.h"
#include "tests/support/plans.h"
#include "tests/support/printers.h"
#include "tests/support/rings.h"

namespace rivulet::pipeline {
namespace {

class EventRouterFallback : public ::testing::TestWithParam<config::Overflow> {};

TEST_P(EventRouterFallback, EventRefusedByALaterPipelineIsRefusedWhenRingsAreNearlyFull) {
  config::Config config;
  config::SourceConfig source = testutil::msSource("src");
  source.overflow = GetParam();
  config.sources.push_back(source);
  for (const char* field : {"a", "b"}) {
    config.pipelines.push_back(
        testutil::pipelineConfig(std::string("by_") + field, "src", {field},
                                 {testutil::aggregate("n", config::AggregateKind::kCount)}));
  }
  SourceStats stats;
  // Smaller than one largest record: no record is ever built in place.
  testutil::RingSet rings(1, 64);
  EventRouter router(testutil::planFor(config), rings.pointers(), stats);
  config::FieldValue fields[3];
  fields[0].type = config::FieldType::kNumber;
  fields[0].is_integer = true;
  fields[0].integer = 1;
  fields[1].type = fields[2].type = config::FieldType::kString;
  fields[1].text = "x";
  fields[2].text = "y";
  ASSERT_EQ(router.route(fields, 0), ErrorReason::kNone);
  fields[2].type = config::FieldType::kMissing;  // by_b cannot take it, by_a can
  EXPECT_EQ(router.route(fields, 0), ErrorReason::kNone);
  fields[1].type = config::FieldType::kMissing;  // neither can
  EXPECT_EQ(router.route(fields, 0), ErrorReason::kMissingField);
  router.flush(0, 1);
  rings.drain();
  EXPECT_EQ(rings.events(0).size(), 2u);
  EXPECT_EQ(rings.events(1).size(), 1u) << "the first event's record only";
  EXPECT_EQ(stats.events.load(), 2u);
  EXPECT_EQ(testutil::errors(stats, ErrorReason::kMissingField), 1u);
  EXPECT_EQ(router.routeStats(1).refused[static_cast<std::size_t>(ErrorReason::kMissingField)], 1u);
  EXPECT_EQ(router.routeStats(0).refused[static_cast<std::size_t>(ErrorReason::kMissingField)], 0u);
  EXPECT_EQ(stats.dropped.load(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Overflow, EventRouterFallback,
                         ::testing::Values(config::Overflow::kBlock, config::Overflow::kDrop));

}  // namespace
}  // namespace rivulet::pipeline

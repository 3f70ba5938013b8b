// WindowOperator and SessionOperator snapshots on hand-checked streams: what a restored operator
// emits, the encoding's size, and snapshots refused for another operator or plan (the random
// streams are in tests/property/snapshot_property_test.cc).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pipeline/model/hash.h"
#include "pipeline/model/json_writer.h"
#include "pipeline/model/plan.h"
#include "pipeline/model/record.h"
#include "pipeline/model/snapshot.h"
#include "pipeline/windows/session_operator.h"
#include "pipeline/windows/window_operator.h"
#include "tests/support/plans.h"
#include "tests/support/result_log.h"

namespace rivulet::pipeline {
namespace {

using config::AggregateKind;
using ::testing::ElementsAre;
using testutil::planOf;
using testutil::PlanSpec;
using testutil::ResultLog;

// A plan, its aggregates and sink, and an operator of type Op over them.
template <typename Op>
struct Harness {
  explicit Harness(const PlanSpec& spec)
      : plan(planOf(spec)),
        aggregates(plan.aggregates, plan.value_index),
        sink(aggregates, ResultLog::WindowEnds::kLogged),
        op(plan, aggregates, &sink) {}

  bool add(std::int64_t time, const std::string& key, double value = 1) {
    return op.add(time, hashKey(key), key, &value) == AddResult::kAdded;
  }
  std::vector<std::string> advance(std::int64_t watermark) {
    op.advanceWatermark(watermark, sink);
    return std::exchange(sink.log, {});
  }
  std::string snapshot() const {
    SnapshotWriter out;
    op.snapshot(out);
    return out.take();
  }
  bool restore(std::string_view bytes) {
    SnapshotReader in(bytes);
    return op.restore(in);
  }

  PipelinePlan plan;
  Aggregates aggregates;
  ResultLog sink;
  Op op;
};

const PlanSpec kTumbling10{{config::WindowKind::kTumbling, 10, 10}};
const PlanSpec kSession10{{config::WindowKind::kSession, 10, 0}};

TEST(OperatorSnapshotTest, RestoredWindowOperatorFiresWhatTheOriginalHeld) {
  Harness<WindowOperator> original(kTumbling10);
  EXPECT_TRUE(original.add(1, "a", 1));
  EXPECT_TRUE(original.add(2, "b", 2));
  EXPECT_TRUE(original.add(3, "a", 4));
  EXPECT_TRUE(original.add(12, "a", 8));
  EXPECT_THAT(original.advance(5), ElementsAre());
  const std::string bytes = original.snapshot();
  // Header 34 (format, plan), layout 18 (words, two aggregates), watermark, next window and keys
  // gauge 24, slice count 4; per slice start and key count 12, and a run of its keys: slice,
  // first, count and size 16; per key size 4, the key, hash 8 and three state words 24.
  EXPECT_EQ(bytes.size(), 34 + 18 + 24 + 4 + 2 * (12 + 16) + 3 * (4 + 1 + 8 + 24));

  Harness<WindowOperator> restored(kTumbling10);
  EXPECT_TRUE(restored.add(7, "z", 100));  // replaced by the restore
  ASSERT_TRUE(restored.restore(bytes));
  EXPECT_EQ(restored.op.watermark(), 5);
  EXPECT_EQ(restored.op.stateEntries(), 3u);
  EXPECT_TRUE(restored.add(4, "a", 16));  // [0,10) has not fired at watermark 5
  EXPECT_THAT(restored.advance(10),
              ElementsAre(R"(final [0,10) a {"n":3,"sum":21})", R"(final [0,10) b {"n":1,"sum":2})",
                          "end [0,10) 2"));
  EXPECT_FALSE(restored.add(9, "a")) << "late after the restored operator fired [0,10)";
  EXPECT_THAT(restored.advance(20),
              ElementsAre(R"(final [10,20) a {"n":1,"sum":8})", "end [10,20) 1"));
}

// A snapshot begun while [0,10) holds a and b, written while the operator goes on: b is changed
// before the snapshot's cursor reaches it (it is written first, as it was), c is new (not in it).
// The snapshot restores a and b as they were at its start; the original goes on with all three.
TEST(OperatorSnapshotTest, ASnapshotWrittenWhileGoingOnHoldsTheStateAtItsStart) {
  Harness<WindowOperator> original(kTumbling10);
  EXPECT_TRUE(original.add(1, "a", 1));
  EXPECT_TRUE(original.add(2, "b", 2));
  SnapshotWriter out;
  original.op.beginSnapshot(out);
  EXPECT_TRUE(original.add(3, "b", 4));
  EXPECT_TRUE(original.add(4, "c", 8));
  EXPECT_FALSE(original.op.continueSnapshot(1)) << "a step writes about its budget: one entry";
  EXPECT_TRUE(original.op.continueSnapshot(1)) << "b was written ahead: nothing is left";

  Harness<WindowOperator> restored(kTumbling10);
  ASSERT_TRUE(restored.restore(out.bytes()));
  EXPECT_THAT(restored.advance(10),
              ElementsAre(R"(final [0,10) a {"n":1,"sum":1})", R"(final [0,10) b {"n":1,"sum":2})",
                          "end [0,10) 2"));
  EXPECT_THAT(original.advance(10),
              ElementsAre(R"(final [0,10) a {"n":1,"sum":1})", R"(final [0,10) b {"n":2,"sum":6})",
                          R"(final [0,10) c {"n":1,"sum":8})", "end [0,10) 3"));
}

TEST(OperatorSnapshotTest, RestoredSessionOperatorFiresWhatTheOriginalHeld) {
  Harness<SessionOperator> original(kSession10);
  EXPECT_TRUE(original.add(1, "a", 1));
  EXPECT_TRUE(original.add(5, "a", 2));
  EXPECT_TRUE(original.add(30, "b", 4));
  const std::string bytes = original.snapshot();

  Harness<SessionOperator> restored(kSession10);
  ASSERT_TRUE(restored.restore(bytes));
  EXPECT_EQ(restored.op.stateEntries(), 2u);
  EXPECT_EQ(restored.op.liveKeys(), 2u);
  EXPECT_TRUE(restored.add(20, "a", 8)) << "a session of its own: more than gap after [1,15)";
  EXPECT_TRUE(restored.add(12, "a", 16)) << "bridges [1,15) and [20,30)";
  EXPECT_THAT(restored.advance(100), ElementsAre(R"(final [1,30) a {"n":4,"sum":27})",
                                                 R"(final [30,40) b {"n":1,"sum":4})"));
  EXPECT_EQ(restored.op.stateEntries(), 0u);
}

TEST(OperatorSnapshotTest, RefusesSnapshotsOfAnotherOperatorOrPlan) {
  Harness<WindowOperator> windows(kTumbling10);
  EXPECT_TRUE(windows.add(1, "a"));
  const std::string window_bytes = windows.snapshot();
  Harness<SessionOperator> sessions(kSession10);
  EXPECT_TRUE(sessions.add(1, "a"));
  const std::string session_bytes = sessions.snapshot();

  EXPECT_FALSE(Harness<SessionOperator>(kSession10).restore(window_bytes));
  EXPECT_FALSE(Harness<WindowOperator>(kTumbling10).restore(session_bytes));
  PlanSpec with_lateness = kTumbling10;
  with_lateness.lateness = 5;
  EXPECT_FALSE(Harness<WindowOperator>(with_lateness).restore(window_bytes));
  EXPECT_FALSE(Harness<WindowOperator>(PlanSpec{{config::WindowKind::kHopping, 10, 5}})
                   .restore(window_bytes));
  PlanSpec other_gap = kSession10;
  other_gap.window.size = 20;
  EXPECT_FALSE(Harness<SessionOperator>(other_gap).restore(session_bytes));
  // The aggregates' layout: another kind in the same words, or a top_k of another capacity.
  PlanSpec other_kind = kTumbling10;
  other_kind.aggregates[0].kind = AggregateKind::kCountIf;
  other_kind.aggregates[0].field = "v";
  EXPECT_FALSE(Harness<WindowOperator>(other_kind).restore(window_bytes));
  PlanSpec top_3 = kTumbling10;
  top_3.aggregates = {{"top", AggregateKind::kTopK, "v", std::nullopt, 0, 3}};
  PlanSpec top_9 = top_3;
  top_9.aggregates[0].k = 9;
  Harness<WindowOperator> small(top_3);
  EXPECT_FALSE(Harness<WindowOperator>(top_9).restore(small.snapshot()));
  EXPECT_TRUE(Harness<WindowOperator>(top_3).restore(small.snapshot()));

  // A refusing operator is as constructed and works as usual.
  Harness<WindowOperator> refused(with_lateness);
  EXPECT_TRUE(refused.add(3, "x"));
  EXPECT_FALSE(refused.restore(window_bytes));
  EXPECT_EQ(refused.op.stateEntries(), 0u);
  EXPECT_EQ(refused.op.watermark(), kMinTime);
  EXPECT_TRUE(refused.add(2, "b"));
  EXPECT_THAT(refused.advance(15),
              ElementsAre(R"(final [0,10) b {"n":1,"sum":1})", "end [0,10) 1"));
}

}  // namespace
}  // namespace rivulet::pipeline
